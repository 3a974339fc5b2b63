import { Directory1763884800000 } from './1763884800000-Directory';
import { Receipts1763884900000 } from './1763884900000-Receipts';

/**
 * Every migration, in order. Listed as classes (not a glob) so the bundled apps, the CLI and the
 * test set-up all run exactly the same set.
 */
export const MIGRATIONS = [Directory1763884800000, Receipts1763884900000];
