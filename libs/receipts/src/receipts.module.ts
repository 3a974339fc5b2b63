import { Module } from '@nestjs/common';
import { DirectoryModule } from '@app/directory';
import { ClockModule } from '@app/shared';
import { ReceiptsService } from './receipts.service';
import { ReceiptIntakeService } from './receipt-intake.service';
import { RefundsService } from './refunds/refunds.service';

@Module({
  imports: [DirectoryModule, ClockModule],
  providers: [ReceiptsService, ReceiptIntakeService, RefundsService],
  exports: [ReceiptsService, ReceiptIntakeService, RefundsService],
})
export class ReceiptsModule {}
