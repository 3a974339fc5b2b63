import { Directory1763884800000 } from './1763884800000-Directory';
import { Receipts1763884900000 } from './1763884900000-Receipts';
import { Complaints1763885000000 } from './1763885000000-Complaints';
import { Outbox1763885100000 } from './1763885100000-Outbox';
import { Stats1763885200000 } from './1763885200000-Stats';
import { Webhooks1763885300000 } from './1763885300000-Webhooks';
import { StatsUnanswered1763885350000 } from './1763885350000-StatsUnanswered';
import { StatsRegions1763885400000 } from './1763885400000-StatsRegions';
import { EscalatedAt1763885500000 } from './1763885500000-EscalatedAt';
import { EventsAppendOnly1764700300000 } from './1764700300000-EventsAppendOnly';
import { WebhookManualRetries1764700310000 } from './1764700310000-WebhookManualRetries';
import { SealPerPurpose1764700320000 } from './1764700320000-SealPerPurpose';
import { ScrubWebhookErrors1764700330000 } from './1764700330000-ScrubWebhookErrors';
import { CalendarAndRuleSets1764700400000 } from './1764700400000-CalendarAndRuleSets';
import { Settlement1764700500000 } from './1764700500000-Settlement';
import { Evidence1764700600000 } from './1764700600000-Evidence';
import { Appeals1764700700000 } from './1764700700000-Appeals';
import { TrailCheckpoints1764700710000 } from './1764700710000-TrailCheckpoints';
import { MonthlyPartitions1764800000000 } from './1764800000000-MonthlyPartitions';
import { KeyClaimsOnce1764900000000 } from './1764900000000-KeyClaimsOnce';
import { OpenCounters1764900200000 } from './1764900200000-OpenCounters';
import { RecordRefundFunction1765000200000 } from './1765000200000-RecordRefundFunction';
import { FreezeLegacyRuleLimits1765000500000 } from './1765000500000-FreezeLegacyRuleLimits';
import { RegionHoursInDaily1765100100000 } from './1765100100000-RegionHoursInDaily';

/**
 * Every migration, in order. Listed as classes (not a glob) so the bundled apps, the CLI and the
 * test set-up all run exactly the same set.
 */
export const MIGRATIONS = [
  Directory1763884800000,
  Receipts1763884900000,
  Complaints1763885000000,
  Outbox1763885100000,
  Stats1763885200000,
  Webhooks1763885300000,
  StatsUnanswered1763885350000,
  StatsRegions1763885400000,
  EscalatedAt1763885500000,
  EventsAppendOnly1764700300000,
  WebhookManualRetries1764700310000,
  SealPerPurpose1764700320000,
  ScrubWebhookErrors1764700330000,
  CalendarAndRuleSets1764700400000,
  Settlement1764700500000,
  Evidence1764700600000,
  Appeals1764700700000,
  TrailCheckpoints1764700710000,
  MonthlyPartitions1764800000000,
  KeyClaimsOnce1764900000000,
  OpenCounters1764900200000,
  RecordRefundFunction1765000200000,
  FreezeLegacyRuleLimits1765000500000,
  RegionHoursInDaily1765100100000,
];
