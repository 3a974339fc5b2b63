import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_AMOUNT_MINOR } from '@app/shared';

export class ReceiptResponse {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'alipay' }) provider: string;
  @ApiProperty({ example: '2026112322001477841405271234' }) tradeNo: string;
  @ApiProperty({
    example: 'alipay:2088102177846880',
    description: 'provider-scoped payer id (the consumer JWT sub)',
  })
  payerId: string;
  @ApiProperty({ example: '2088102177296610', description: 'payee account' }) accountId: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null when the payee account maps to no store',
  })
  merchantId: string | null;
  @ApiProperty({ nullable: true, type: String }) storeId: string | null;
  @ApiProperty({ nullable: true, type: String, example: '330106' }) regionCode: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: '西湖区',
    description: 'the name of regionCode (GB/T 2260); the code itself when unknown',
  })
  regionName: string | null;
  @ApiProperty({ example: 3500, description: 'integer minor units (fen for CNY)' })
  amountMinor: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ example: '2026-11-23T10:15:00.000Z' }) paidAt: string;
  @ApiProperty({ example: '龙井茶 250g' }) subject: string;
  @ApiPropertyOptional({ nullable: true }) items: unknown;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'the ticket opened from this receipt, if any',
  })
  complaintId: string | null;
  @ApiProperty({
    example: 0,
    description: 'refunds recorded for this payment (minor units), never more than amountMinor',
  })
  refundedMinor: number;
  @ApiProperty() receivedAt: string;
}

export class ReceiptRefundItem {
  @ApiProperty({ example: '2026112522001477841405271234' }) refundNo: string;
  @ApiProperty({ example: 3000 }) amountMinor: number;
  @ApiProperty({ example: '2026-11-25T02:00:00.000Z' }) refundedAt: string;
}

export class ReceiptWithRefundsResponse extends ReceiptResponse {
  @ApiProperty({ type: [ReceiptRefundItem], description: 'oldest first' })
  refunds: ReceiptRefundItem[];
}

export class GenericRefundRequest {
  @ApiProperty({
    example: 'sunmi-pos',
    pattern: '^[a-z][a-z0-9_-]{1,31}$',
    description:
      'not alipay / wechatpay (422 PROVIDER_RESERVED): theirs come only through their own routes',
  })
  provider: string;
  @ApiProperty({ maxLength: 64, description: 'the refunded payment' }) tradeNo: string;
  @ApiProperty({ maxLength: 64, description: 'unique per provider' }) refundNo: string;
  @ApiProperty({
    example: 3000,
    type: 'integer',
    minimum: 1,
    maximum: MAX_AMOUNT_MINOR,
    description: 'positive integer minor units',
  })
  amountMinor: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ example: '2026-11-25T10:00:00+08:00' }) refundedAt: string;
}

export class RefundResponse {
  @ApiProperty() id: string;
  @ApiProperty({ example: 'sunmi-pos' }) provider: string;
  @ApiProperty() tradeNo: string;
  @ApiProperty() refundNo: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'null until the refunded receipt is known',
  })
  receiptId: string | null;
  @ApiProperty({ example: 3000 }) amountMinor: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty() refundedAt: string;
  @ApiProperty() receivedAt: string;
}

export class GenericReceiptRequest {
  @ApiProperty({ example: 'sunmi-pos', pattern: '^[a-z][a-z0-9_-]{1,31}$' }) provider: string;
  @ApiProperty({ maxLength: 64 }) tradeNo: string;
  @ApiProperty({ maxLength: 64, description: 'without the provider prefix' }) payerId: string;
  @ApiProperty({ maxLength: 64 }) accountId: string;
  @ApiProperty({ example: 3500, description: 'non-negative integer minor units' })
  amountMinor: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ example: '2026-11-23T18:15:00+08:00' }) paidAt: string;
  @ApiProperty({ maxLength: 256 }) subject: string;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } }) items?: unknown[];
}

export class BatchRejectedLine {
  @ApiProperty({ description: '1-based line number in the body' }) line: number;
  @ApiProperty({ example: 'VALIDATION_FAILED', enum: ['VALIDATION_FAILED', 'RECEIPT_CONFLICT'] })
  code: string;
  @ApiPropertyOptional() detail?: string;
}

export class BatchResponse {
  @ApiProperty() created: number;
  @ApiProperty({ description: 'lines identical to a stored receipt' }) duplicates: number;
  @ApiProperty({ type: [BatchRejectedLine] }) rejected: BatchRejectedLine[];
}
