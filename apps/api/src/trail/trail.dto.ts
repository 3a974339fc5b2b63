import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ListQuery } from '../http/list-query.dto';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;

export class CheckpointsQuery extends ListQuery {
  @ApiPropertyOptional({
    description: 'only checkpoints with a larger seq (default 0: from the first)',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ description: 'nextCursor of a previous page (the last seq it listed)' })
  @IsOptional()
  @Matches(/^\d{1,15}$/)
  declare cursor?: string;
}

export class ProofQuery {
  @ApiPropertyOptional({
    description:
      'seq of the checkpoint to prove against (e.g. the one a regulator saved); default: the latest checkpoint covering the ticket',
  })
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  checkpoint?: number;
}

export class CheckpointResponse {
  @ApiProperty() seq: number;
  @ApiProperty() at: string;
  @ApiProperty({ description: 'RFC 6962 tree head over the leaves, hex' }) root: string;
  @ApiProperty({ description: 'number of leaves (tickets changed since the previous checkpoint)' })
  size: number;
  @ApiProperty({ nullable: true, type: String }) prevRoot: string | null;
  @ApiProperty({
    description:
      'the exact UTF-8 JSON text that was signed: {"seq","at","root","size","prevRoot"} in that order',
  })
  signed: string;
  @ApiProperty({ description: 'Ed25519 signature of `signed`, base64' }) signature: string;
  @ApiProperty({ description: 'the signing key, SPKI PEM' }) publicKey: string;
}

export class CheckpointPage {
  @ApiProperty({ type: [CheckpointResponse] }) items: CheckpointResponse[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class AuditPathDto {
  @ApiProperty() leafIndex: number;
  @ApiProperty() treeSize: number;
  @ApiProperty({ type: [String], description: 'RFC 6962 audit path, hex, from the leaf up' })
  path: string[];
}

export class ProofResponse {
  @ApiProperty({ description: 'the ticket’s head hash committed by the checkpoint' })
  headHash: string;
  @ApiProperty({
    description: 'the trail length at that head (headHash = hash of event #eventCount)',
  })
  eventCount: number;
  @ApiProperty({ type: CheckpointResponse }) checkpoint: CheckpointResponse;
  @ApiProperty({ type: AuditPathDto }) proof: AuditPathDto;
}
