import { Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { WebhooksService } from '@app/complaints';
import type { WebhookDeliveryView } from '@app/complaints';
import { DirectoryService } from '@app/directory';
import { DomainError } from '@app/shared';
import type { Actor, Page } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { CurrentActor, Roles, assertOwnMerchant } from '../http/auth';
import { IdParam } from '../http/id-param';
import { ApiPagedList } from '../http/list-query.dto';
import {
  DeliveryListQuery,
  WEBHOOK_DOC,
  WebhookDeliveryResponse,
  WebhookSecretResponse,
} from './webhooks.dto';

@ApiTags('webhooks')
@ApiExtraModels(WebhookDeliveryResponse)
@Controller('v1/merchants/:merchantId')
export class MerchantWebhooksController {
  constructor(
    private readonly directory: DirectoryService,
    private readonly webhooks: WebhooksService,
  ) {}

  @Post('webhook-secret')
  @Roles('admin')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the webhook signing secret (admin)',
    description: `Issues a new secret, returned only in this response; the old one stops signing at once (pending deliveries are signed with the new one from their next attempt).\n\n${WEBHOOK_DOC}`,
  })
  @ApiOkResponse({ type: WebhookSecretResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  async rotateSecret(@IdParam('merchantId') id: string): Promise<WebhookSecretResponse> {
    return { webhookSecret: await this.directory.rotateWebhookSecret(id) };
  }

  @Get('webhook-deliveries')
  @Roles('admin', 'merchant')
  @ApiOperation({
    summary: "A merchant's webhook deliveries, newest first (admin; merchant staff: their own)",
    description: WEBHOOK_DOC,
  })
  @ApiPagedList(WebhookDeliveryResponse, 'NOT_FOUND')
  async list(
    @IdParam('merchantId') id: string,
    @Query() q: DeliveryListQuery,
    @CurrentActor() actor: Actor,
  ): Promise<Page<WebhookDeliveryView>> {
    assertOwnMerchant(actor, id);
    return this.webhooks.list(id, q);
  }

  @Post('webhook-deliveries/:deliveryId/retry')
  @Roles('admin', 'merchant')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Re-queue a dead delivery (admin; merchant staff: their own)',
    description:
      'The delivery becomes pending, due now, with a fresh budget of WEBHOOK_MAX_ATTEMPTS attempts; same id and body. Only a dead delivery can be retried (409 INVALID_TRANSITION otherwise). At most WEBHOOK_MANUAL_RETRIES (3) retries per delivery in a rolling 24 hours, counted from the first retry of the window: beyond that 429 RATE_LIMITED with Retry-After (seconds until the window ends).',
  })
  @ApiOkResponse({ type: WebhookDeliveryResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_TRANSITION', 'RATE_LIMITED')
  async retry(
    @IdParam('merchantId') id: string,
    @IdParam('deliveryId') deliveryId: string,
    @CurrentActor() actor: Actor,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WebhookDeliveryView> {
    assertOwnMerchant(actor, id);
    try {
      return await this.webhooks.retry(id, deliveryId);
    } catch (e) {
      const after = e instanceof DomainError ? e.extra.retryAfterSeconds : undefined;
      if (typeof after === 'number') void reply.header('retry-after', String(after));
      throw e;
    }
  }
}
