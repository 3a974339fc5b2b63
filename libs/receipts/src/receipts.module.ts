import { Module } from '@nestjs/common';
import { DirectoryModule } from '@app/directory';
import { ReceiptsService } from './receipts.service';
import { ReceiptIntakeService } from './receipt-intake.service';

@Module({
  imports: [DirectoryModule],
  providers: [ReceiptsService, ReceiptIntakeService],
  exports: [ReceiptsService, ReceiptIntakeService],
})
export class ReceiptsModule {}
