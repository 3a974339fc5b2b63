import { DomainError } from '@app/shared';
import type { Actor } from '@app/shared';
import { rowsOf } from '@app/shared/queryable';
import type { Queryable } from '@app/shared/queryable';
import type { ComplaintRow } from '../complaint.row';

/**
 * Who may see a ticket — the one home of the rule, twice side by side: `canSee` for a row in
 * hand (actions, the live feed), `visibleWhere` for a query (lists, the live feed's polling).
 * Anyone else is told the ticket does not exist. test/visibility.e2e-spec.ts checks the two
 * against each other on generated tickets and actors.
 */

/** Who may see a ticket at all. */
export function canSee(
  row: Pick<ComplaintRow, 'consumer_id' | 'merchant_id' | 'office_id'>,
  actor: Actor,
): boolean {
  switch (actor.role) {
    case 'admin':
      return true;
    case 'consumer':
      return row.consumer_id === actor.sub;
    case 'merchant':
      return row.merchant_id === actor.merchantId;
    case 'regulator':
      return row.office_id !== null && row.office_id === actor.officeId;
  }
}

/** Ticket `id` if `actor` may see it; else 404 NOT_FOUND, as for a ticket that does not exist. */
export async function visibleTicket(
  db: Queryable,
  id: string,
  actor: Actor,
): Promise<ComplaintRow> {
  const [row] = await rowsOf<ComplaintRow>(db, 'SELECT * FROM complaints WHERE id = $1', [id]);
  if (!row || !canSee(row, actor)) throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
  return row;
}

/**
 * The same rule as an SQL condition on `complaints` (columns prefixed with `alias.` when
 * given); `param` adds a bound parameter and answers its placeholder (`$n`). An actor without
 * its key (a merchant token without merchantId) sees nothing, as with canSee.
 */
export function visibleWhere(
  actor: Actor,
  param: (value: unknown) => string,
  alias?: string,
): string {
  const c = (column: string) => (alias ? `${alias}.${column}` : column);
  switch (actor.role) {
    case 'admin':
      return 'TRUE';
    case 'consumer':
      return `${c('consumer_id')} = ${param(actor.sub)}`;
    case 'merchant':
      return actor.merchantId ? `${c('merchant_id')} = ${param(actor.merchantId)}` : 'FALSE';
    case 'regulator':
      return actor.officeId ? `${c('office_id')} = ${param(actor.officeId)}` : 'FALSE';
  }
}

/**
 * Whether the actor sees the serial-complainant flag (DESIGN.md: flagged to regulators only;
 * admins too). The field does not exist in anyone else's view.
 */
export function seesSerialFlag(actor: Actor): boolean {
  return actor.role === 'regulator' || actor.role === 'admin';
}
