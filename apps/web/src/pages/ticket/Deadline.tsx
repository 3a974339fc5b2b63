import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import { Countdown, DateTime } from '../../components/ui';
import type { Ticket } from '../../types';

/** The deadline that runs in the ticket's status, with its countdown (shared by every role). */
export function Deadline({ ticket: tk }: { ticket: Ticket }) {
  const { t } = useI18n();
  let row: ReactNode;
  if (tk.status === 'awaiting_merchant')
    row = <DeadlineRow label={t('deadline.merchantRespondBy')} at={tk.merchantRespondBy} />;
  else if (tk.status === 'in_negotiation')
    row = <DeadlineRow label={t('deadline.resolveBy')} at={tk.resolveBy} />;
  else if (tk.status === 'settling')
    row = <DeadlineRow label={t('deadline.settleBy')} at={tk.settlement?.settleBy ?? null} />;
  else if (tk.status === 'escalated')
    row = (
      <DeadlineRow label={t('deadline.acceptBy')} at={tk.acceptBy}>
        {tk.acceptanceOverdue ? (
          <span className="badge badge-danger">{t('queue.acceptanceOverdue')}</span>
        ) : null}
        <RuleNote ticket={tk} field="acceptBy" />
      </DeadlineRow>
    );
  else if (tk.status === 'mediating')
    row = (
      <DeadlineRow label={t('deadline.mediationEndBy')} at={tk.mediationEndBy}>
        <RuleNote ticket={tk} field="mediationEndBy" />
      </DeadlineRow>
    );
  else if (tk.status === 'appealed')
    row = (
      <DeadlineRow label={t('deadline.reviewBy')} at={tk.reviewBy}>
        <RuleNote ticket={tk} field="reviewBy" />
        {tk.appealReviewOverdue ? (
          <span className="badge badge-danger">{t('appeal.reviewOverdue')}</span>
        ) : null}
      </DeadlineRow>
    );
  else row = <DeadlineRow label={t('deadline.closedAt')} at={tk.closedAt} static />;
  return (
    <section className="card deadline" aria-label={t('deadline.title')}>
      {row}
    </section>
  );
}

/** The name of the rule set a ticket was escalated under (GET /v1/rules), next to its deadline. */
export function RuleSetBadge({ ruleSet }: { ruleSet: string | null }) {
  const { t } = useI18n();
  const set = ruleSet ?? 'cn-12315';
  const name = set === 'cn-12315' || set === 'platform-live-commerce' ? t(`rules.${set}`) : set;
  return (
    <span className="badge" data-testid="rule-set">
      {name}
    </span>
  );
}

/** The rule set's name next to a regulator deadline, whether it is estimated, and its extension's reason. */
function RuleNote({
  ticket: tk,
  field,
}: {
  ticket: Ticket;
  field: 'acceptBy' | 'mediationEndBy' | 'reviewBy';
}) {
  const { t } = useI18n();
  const extension = (tk.extensions ?? []).find((e) => e.deadline === field);
  return (
    <>
      <RuleSetBadge ruleSet={tk.ruleSet} />
      {tk.deadlineBasis?.[field] === 'estimated' ? (
        <span className="badge badge-warn">{t('deadline.estimated')}</span>
      ) : null}
      {extension ? (
        <span className="deadline-extension">
          {t('deadline.extended', { n: extension.workdays, reason: extension.reason })}
        </span>
      ) : null}
    </>
  );
}

function DeadlineRow({
  label,
  at,
  children,
  static: isStatic,
}: {
  label: string;
  at: string | null;
  children?: ReactNode;
  static?: boolean;
}) {
  return (
    <div className="deadline-row">
      <span className="deadline-label">{label}</span>
      <span className="deadline-at">
        <DateTime iso={at} />
      </span>
      {isStatic ? null : <Countdown to={at} />}
      {children}
    </div>
  );
}
