import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  CasePacketService,
  EvidenceService,
  contentDisposition,
  renderPacketPdf,
} from '@app/complaints';
import type { AttachmentView, CasePacket, UploadPart } from '@app/complaints';
import { DomainError, HEJIE_CONFIG, ROLES } from '@app/shared';
import type { Actor, HejieConfig } from '@app/shared';
import { Inject } from '@nestjs/common';
import { ApiTicketWriteProblems, TicketRead } from '../http/api-problems';
import { CurrentActor, Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import { CallerThrottlerGuard } from '../http/rate-limit';
import {
  AttachmentListResponse,
  AttachmentResponse,
  CasePacketResponse,
  ComplainantRequest,
  UploadAttachmentForm,
} from './evidence.dto';

/** Room for the multipart framing and the note around a file of the maximum size. */
const MULTIPART_OVERHEAD = 64 * 1024;

const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

@ApiTags('evidence')
@Controller('v1/complaints')
export class EvidenceController {
  constructor(
    private readonly evidence: EvidenceService,
    private readonly packets: CasePacketService,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
  ) {}

  @Post(':id/attachments')
  @Roles(...ROLES)
  @UseGuards(CallerThrottlerGuard)
  @ApiOperation({
    summary: 'Attach evidence (photo, screenshot, PDF, short video)',
    description:
      'multipart/form-data with one part `file` and an optional text part `note`. Streamed into storage (never held whole in memory) while it is typed from its bytes (JPEG, PNG, WebP, PDF, MP4; else 415) and hashed; the sha256 goes onto the trail (`attachment_added`). Photos are also stored re-encoded without EXIF/XMP (GPS, device), PDFs without their document information strings and XMP, MP4s without their udta/meta boxes (location ©xyz, device): the copy the other party downloads. At most two uploads per API process are written to the database at once; the others wait their turn with their file already on disk (never refused for it). ATTACHMENT_MAX_BYTES per file (413, refused before reading when Content-Length is over it), ATTACHMENT_MAX_COUNT per party (consumer, merchant, office) per ticket (422 ATTACHMENT_LIMIT). Refused on closed tickets (409) except during an appeal. A refused upload stores nothing.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadAttachmentForm })
  @ApiCreatedResponse({ type: AttachmentResponse })
  @ApiTicketWriteProblems(
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'ATTACHMENT_LIMIT',
    'RATE_LIMITED',
  )
  async upload(
    @IdParam('id') id: string,
    @Req() req: FastifyRequest,
    @CurrentActor() actor: Actor,
  ): Promise<AttachmentView> {
    if (!req.isMultipart()) {
      throw new DomainError(
        'UNSUPPORTED_MEDIA_TYPE',
        'evidence is uploaded as multipart/form-data (a part named "file")',
      );
    }
    const declared = Number(req.headers['content-length']);
    if (declared > this.config.attachmentMaxBytes + MULTIPART_OVERHEAD) {
      throw new DomainError(
        'PAYLOAD_TOO_LARGE',
        `the file exceeds ${this.config.attachmentMaxBytes} bytes`,
        { maxBytes: this.config.attachmentMaxBytes },
      );
    }
    // Refuse before reading a byte when the ticket cannot take it (visibility, state, count).
    await this.evidence.precheck(id, actor);
    return this.evidence.upload(id, actor, req.parts() as AsyncIterable<UploadPart>);
  }

  @Get(':id/attachments')
  @TicketRead()
  @ApiOperation({ summary: 'The evidence on a ticket, oldest first' })
  @ApiOkResponse({ type: AttachmentListResponse })
  list(@IdParam('id') id: string, @CurrentActor() actor: Actor) {
    return this.evidence.list(id, actor);
  }

  @Get(':id/attachments/:attachmentId')
  @TicketRead('VALIDATION_FAILED', 'FORBIDDEN')
  @ApiOperation({
    summary: 'Download an attachment',
    description:
      'The bytes, streamed, with Content-Type, Content-Disposition: attachment (RFC 6266, UTF-8 filename*), X-Content-Type-Options: nosniff and Repr-Digest (sha-256 of the bytes served). A photo, PDF or MP4 goes to the other party without its location/device metadata (see metadataStripped); its uploader’s party gets the original, and `original=true` gives the original to the uploader’s party and the office (regulators, admins): the other party gets 403 FORBIDDEN.',
  })
  @ApiQuery({ name: 'original', required: false, enum: ['true', 'false'] })
  @ApiProduces('image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'video/mp4')
  @ApiOkResponse({ schema: { type: 'string', format: 'binary' } })
  async download(
    @IdParam('id') id: string,
    @IdParam('attachmentId') attachmentId: string,
    @Query('original') original: string | undefined,
    @CurrentActor() actor: Actor,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (original !== undefined && original !== 'true' && original !== 'false') {
      throw new DomainError('VALIDATION_FAILED', 'original must be true or false', {}, [
        { field: 'original', message: 'true or false' },
      ]);
    }
    const d = await this.evidence.download(id, attachmentId, actor, original === 'true');
    await reply
      .header('content-type', d.contentType)
      .header('content-length', String(d.size))
      .header('content-disposition', contentDisposition(d.filename))
      .header('x-content-type-options', 'nosniff')
      .header('repr-digest', `sha-256=:${hexToBase64(d.sha256)}:`)
      .header('cache-control', 'private, no-store')
      .header('x-hejie-original', String(d.original))
      .send(d.stream);
  }

  @Put(':id/complainant')
  @Roles('consumer')
  @HttpCode(204)
  @ApiOperation({
    summary: 'The complainant’s real name, phone and address for the case packet',
    description:
      'From escalation on (before: 409 INVALID_TRANSITION); may be corrected later. Stored encrypted (AES-256-GCM with PII_KEY); shown to the consumer, the office and admins in the case packet, never to the merchant. The trail gets `complainant_provided` naming the fields, not their values.',
  })
  @ApiNoContentResponse()
  @ApiTicketWriteProblems()
  async complainant(
    @IdParam('id') id: string,
    @Body() body: ComplainantRequest,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.packets.provideComplainant(id, actor, body);
  }

  @Get(':id/case-packet')
  @TicketRead()
  @ApiOperation({
    summary: 'The case packet a 12315 office needs to accept the complaint',
    description:
      'JSON, or with `Accept: application/pdf` a PDF (Chinese text embedded in Noto Sans CJK, selectable; the trail head hash on every page). The consumer, the office’s regulators and admins; merchants get 404. A regulator’s reading is recorded on the trail (regulator_viewed) before the packet is read, so its head hash includes it.',
  })
  @ApiHeader({
    name: 'Accept',
    required: false,
    description: 'application/json (default) or application/pdf',
  })
  @ApiProduces('application/json', 'application/pdf')
  @ApiOkResponse({ type: CasePacketResponse })
  async casePacket(
    @IdParam('id') id: string,
    @CurrentActor() actor: Actor,
    @Headers('accept') accept: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const packet: CasePacket = await this.packets.packet(id, actor);
    if (wantsPdf(accept)) {
      const pdf = renderPacketPdf(packet);
      await reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', contentDisposition(`case-packet-${packet.number}.pdf`))
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, no-store')
        .send(pdf);
      return;
    }
    await reply.header('cache-control', 'private, no-store').send(packet);
  }
}

/** application/pdf named in Accept, and not with a lower q than JSON. */
function wantsPdf(accept: string | undefined): boolean {
  if (!accept) return false;
  const q = (type: string): number => {
    for (const part of accept.split(',')) {
      const [t, ...params] = part.trim().split(';');
      if (t.trim().toLowerCase() !== type) continue;
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return qp ? Number(qp.slice(2)) || 0 : 1;
    }
    return -1;
  };
  const pdf = q('application/pdf');
  return pdf > 0 && pdf >= q('application/json');
}
