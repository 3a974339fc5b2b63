import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';
import { PACKET_FIELDS } from '@app/complaints';
import { ROLES } from '@app/shared';

export class UploadAttachmentForm {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description:
      'JPEG, PNG, WebP, PDF or MP4, decided from the bytes (not the name or the part header); at most ATTACHMENT_MAX_BYTES',
  })
  file: unknown;
  @ApiPropertyOptional({ maxLength: 2000 }) note?: string;
}

export class UploaderDto {
  @ApiProperty({ enum: ROLES }) role: string;
}

export class AttachmentResponse {
  @ApiProperty() id: string;
  @ApiProperty({ example: '漏水照片.jpg' }) filename: string;
  @ApiProperty({ enum: ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'video/mp4'] })
  contentType: string;
  @ApiProperty({ description: 'bytes of the original' }) size: number;
  @ApiProperty({ description: 'sha256 (hex) of the original, as on the trail (attachment_added)' })
  sha256: string;
  @ApiProperty({ type: UploaderDto }) uploadedBy: UploaderDto;
  @ApiProperty() at: string;
  @ApiProperty({ nullable: true, type: String }) note: string | null;
  @ApiProperty({
    description:
      'the other party gets a copy without location/device metadata: photos re-encoded without EXIF/XMP/IPTC; PDFs with their document information strings blanked and XMP emptied; MP4s with their udta/meta boxes turned into free boxes (same length). false: nothing was found to remove (PDF, MP4) and the other party gets the original',
  })
  metadataStripped: boolean;
}

export class AttachmentListResponse {
  @ApiProperty({ type: [AttachmentResponse] }) items: AttachmentResponse[];
}

export class ComplainantRequest {
  @ApiProperty({ example: '张三', minLength: 1, maxLength: 100 })
  @IsString()
  @Length(1, 100)
  realName: string;
  @ApiProperty({ example: '13812345678', description: 'mainland mobile number' })
  @IsString()
  @Matches(/^1[3-9]\d{9}$/, { message: 'phone must be a mainland mobile number (11 digits)' })
  phone: string;
  @ApiProperty({
    example: '浙江省杭州市西湖区文三路 100 号 2 幢 301 室',
    minLength: 5,
    maxLength: 300,
  })
  @IsString()
  @Length(5, 300)
  address: string;
}

export class ComplainantDto {
  @ApiProperty() realName: string;
  @ApiProperty() phone: string;
  @ApiProperty() address: string;
}

export class RespondentDto {
  @ApiProperty({ description: "the merchant's legal name" }) name: string;
  @ApiProperty({ description: 'unified social credit code' }) creditCode: string;
  @ApiProperty({ description: "the store's address" }) address: string;
  @ApiProperty() storeName: string;
}

export class PacketAttachmentDto {
  @ApiProperty() id: string;
  @ApiProperty() filename: string;
  @ApiProperty() sha256: string;
  @ApiProperty() contentType: string;
}

export class PacketTrailDto {
  @ApiProperty() length: number;
  @ApiProperty({ nullable: true, type: String }) headHash: string | null;
}

export class CasePacketResponse {
  @ApiProperty() complaintId: string;
  @ApiProperty() number: string;
  @ApiProperty() status: string;
  @ApiProperty() complete: boolean;
  @ApiProperty({ enum: PACKET_FIELDS, isArray: true }) missing: string[];
  @ApiProperty({ type: ComplainantDto, nullable: true }) complainant: ComplainantDto | null;
  @ApiProperty({ type: RespondentDto }) respondent: RespondentDto;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { category: 'quality', demand: { type: 'refund', amountMinor: 12800 } },
  })
  request: unknown;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: '{ description, order, createdAt }',
  })
  facts: unknown;
  @ApiProperty({ type: [PacketAttachmentDto] }) attachments: PacketAttachmentDto[];
  @ApiProperty({ type: PacketTrailDto }) trail: PacketTrailDto;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { id: 'uuid', name: '西湖区市场监督管理局' },
  })
  office: unknown;
  @ApiProperty() generatedAt: string;
}
