import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { DirectoryService } from '@app/directory';
import { mapPage } from '@app/shared';
import type { Actor, Page } from '@app/shared';
import { ApiProblems, ApiWriteProblems } from '../http/api-problems';
import { CurrentActor, Roles, assertOwnMerchant } from '../http/auth';
import { IdParam } from '../http/id-param';
import { ApiPagedList, ListQuery } from '../http/list-query.dto';
import {
  CreateMerchantRequest,
  CreateStoreRequest,
  MerchantCreatedResponse,
  MerchantResponse,
  StoreResponse,
  UpdateMerchantRequest,
} from './directory.dto';
import { merchantView, storeView } from './directory.views';
import { WEBHOOK_DOC } from '../webhooks/webhooks.dto';

@ApiTags('directory')
@ApiExtraModels(MerchantResponse, StoreResponse)
@Controller('v1/merchants')
export class MerchantsController {
  constructor(private readonly directory: DirectoryService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: 'Onboard a merchant (admin)',
    description: `The response carries the merchant's webhook signing secret (\`webhookSecret\`), shown this once: GETs never return it; POST /v1/merchants/:id/webhook-secret issues a new one.\n\n${WEBHOOK_DOC}`,
  })
  @ApiCreatedResponse({ type: MerchantCreatedResponse })
  @ApiProblems(
    'VALIDATION_FAILED',
    'UNAUTHENTICATED',
    'FORBIDDEN',
    'MERCHANT_EXISTS',
    'CREDIT_CODE_INVALID',
    'WEBHOOK_URL_FORBIDDEN',
  )
  async create(@Body() body: CreateMerchantRequest): Promise<MerchantCreatedResponse> {
    const { merchant, webhookSecret } = await this.directory.createMerchant(body);
    return { ...merchantView(merchant), webhookSecret };
  }

  @Get()
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: 'List merchants (admin, regulator), oldest first' })
  @ApiPagedList(MerchantResponse)
  async list(@Query() q: ListQuery): Promise<Page<MerchantResponse>> {
    return mapPage(await this.directory.listMerchants(q), merchantView);
  }

  @Get(':merchantId')
  @Roles('admin', 'regulator', 'merchant')
  @ApiOperation({ summary: 'One merchant (admin, regulator; merchant staff: their own)' })
  @ApiOkResponse({ type: MerchantResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  async get(
    @IdParam('merchantId') id: string,
    @CurrentActor() actor: Actor,
  ): Promise<MerchantResponse> {
    assertOwnMerchant(actor, id);
    return merchantView(await this.directory.getMerchant(id));
  }

  @Patch(':merchantId')
  @Roles('admin', 'merchant')
  @ApiOperation({
    summary: "Change a merchant's webhook URL or contact e-mail (admin; merchant staff: their own)",
    description:
      "Absent fields stay as they are; `null` removes the webhook URL (no further deliveries are sent; pending ones wait) or the e-mail. The webhook URL is checked as on creation (422 WEBHOOK_URL_FORBIDDEN). Other merchants' staff get 404.",
  })
  @ApiOkResponse({ type: MerchantResponse })
  @ApiWriteProblems('WEBHOOK_URL_FORBIDDEN')
  async update(
    @IdParam('merchantId') id: string,
    @Body() body: UpdateMerchantRequest,
    @CurrentActor() actor: Actor,
  ): Promise<MerchantResponse> {
    assertOwnMerchant(actor, id);
    return merchantView(await this.directory.updateMerchant(id, body));
  }

  @Post(':merchantId/stores')
  @Roles('admin')
  @ApiOperation({ summary: 'Add a store with its payment accounts (admin)' })
  @ApiCreatedResponse({ type: StoreResponse })
  @ApiWriteProblems('PAYMENT_ACCOUNT_TAKEN')
  async createStore(
    @IdParam('merchantId') id: string,
    @Body() body: CreateStoreRequest,
  ): Promise<StoreResponse> {
    return storeView(await this.directory.createStore(id, body));
  }

  @Get(':merchantId/stores')
  @Roles('admin', 'regulator', 'merchant')
  @ApiOperation({ summary: "A merchant's stores (admin, regulator; merchant staff: their own)" })
  @ApiPagedList(StoreResponse, 'NOT_FOUND')
  async listStores(
    @IdParam('merchantId') id: string,
    @Query() q: ListQuery,
    @CurrentActor() actor: Actor,
  ): Promise<Page<StoreResponse>> {
    assertOwnMerchant(actor, id);
    return mapPage(await this.directory.listStores(id, q), storeView);
  }
}
