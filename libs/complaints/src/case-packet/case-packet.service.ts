import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { OfficeReads } from '@app/directory';
import { CLOCK, DomainError, HEJIE_CONFIG } from '@app/shared';
import type { Actor, Clock, HejieConfig } from '@app/shared';
import type { ComplaintRow } from '../complaint.row';
import { canSee } from '../policy/visibility';
import { TicketTransitions } from '../changes/transitions';
import type { OrderSnapshot, TicketView } from '../complaint.types';
import { EvidenceService } from '../evidence/evidence.service';
import {
  Complainant,
  PacketField,
  Respondent,
  missingFields,
  openComplainant,
  readRespondent,
  sealComplainant,
} from './packet-rules';

export interface CasePacket {
  complaintId: string;
  number: string;
  status: string;
  complete: boolean;
  missing: PacketField[];
  complainant: Complainant | null;
  respondent: Respondent;
  request: { category: string; demand: { type: string; amountMinor: number | null } };
  facts: { description: string; order: OrderSnapshot; createdAt: string };
  attachments: { id: string; filename: string; sha256: string; contentType: string }[];
  trail: { length: number; headHash: string | null };
  office: { id: string | null; name: string | null };
  generatedAt: string;
}

/** What the consumer (and the office) see on the ticket once it left the merchant phase. */
export interface EscalationSummary {
  /** The office that has the case (null: no office covers the store's region yet). */
  officeName: string | null;
  casePacket: { complete: boolean; missing: PacketField[] };
}

/** Only the consumer, the office that has the ticket, and admins: merchants are told 404. */
function mayReadPacket(t: ComplaintRow, actor: Actor): boolean {
  return actor.role !== 'merchant' && canSee(t, actor);
}

/**
 * The case packet (API.md "Case packet"): the complainant's details (sealed at rest), the
 * respondent from the directory, the request and facts from the ticket, the evidence and the
 * trail's head, as JSON or as a PDF.
 */
@Injectable()
export class CasePacketService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(HEJIE_CONFIG) private readonly config: HejieConfig,
    private readonly transitions: TicketTransitions,
    private readonly evidence: EvidenceService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async provideComplainant(id: string, actor: Actor, c: Complainant): Promise<void> {
    await this.db.transaction((tx) => this.provideIn(tx, id, actor, c));
  }

  /**
   * Stores (or replaces) the complainant's details in `tx` with the event
   * `complainant_provided` (which names the fields, never their values). From escalation on:
   * before it, 409 INVALID_TRANSITION.
   */
  async provideIn(tx: EntityManager, id: string, actor: Actor, c: Complainant): Promise<void> {
    if (actor.role !== 'consumer') {
      throw new DomainError('FORBIDDEN', 'only the consumer gives the complainant details');
    }
    await this.transitions.recordEvent(tx, id, actor, async (t, now, ltx) => {
      if (!t.escalated_at) {
        throw new DomainError(
          'INVALID_TRANSITION',
          'the complainant details are asked for from escalation on',
          { ticketStatus: t.status, action: 'provide_complainant' },
        );
      }
      const sealed = sealComplainant(
        { realName: c.realName, phone: c.phone, address: c.address },
        this.config.piiKey,
        id,
      );
      const [prior]: { n: number }[] = await ltx.query(
        `SELECT count(*)::int AS n FROM complaint_complainants WHERE complaint_id = $1`,
        [id],
      );
      await ltx.query(
        `INSERT INTO complaint_complainants (complaint_id, sealed, provided_at, updated_at)
         VALUES ($1, $2, $3, $3)
         ON CONFLICT (complaint_id) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = EXCLUDED.updated_at`,
        [id, sealed, now],
      );
      return {
        event: {
          type: 'complainant_provided',
          data: { fields: ['realName', 'phone', 'address'], replaced: prior.n > 0 },
        },
      };
    });
  }

  /** The packet; a regulator's reading is recorded on the trail first (it holds PII). */
  async packet(id: string, actor: Actor): Promise<CasePacket> {
    return this.db.transaction(async (tx) => {
      const first = await this.row(tx, id);
      if (!first || !mayReadPacket(first, actor)) {
        throw new DomainError('NOT_FOUND', `complaint ${id} not found`);
      }
      if (actor.role === 'regulator') {
        await this.transitions.recordEvent(tx, id, actor, () => ({
          event: { type: 'regulator_viewed', data: { what: 'case_packet' } },
        }));
      }
      const t = (await this.row(tx, id))!;
      const [sealed]: { sealed: string }[] = await tx.query(
        `SELECT sealed FROM complaint_complainants WHERE complaint_id = $1`,
        [id],
      );
      const complainant = sealed ? openComplainant(sealed.sealed, this.config.piiKey, id) : null;
      const respondent = await readRespondent(tx, t);
      const missing = missingFields(t, complainant, respondent);
      const attachments = await this.evidence.listFor(tx, id);
      const office = t.office_id ? await this.officeName(tx, t.office_id) : null;
      return {
        complaintId: t.id,
        number: t.number,
        status: t.status,
        complete: missing.length === 0,
        missing,
        complainant,
        respondent,
        request: {
          category: t.category,
          demand: {
            type: t.demand_type,
            amountMinor: t.demand_amount_minor === null ? null : Number(t.demand_amount_minor),
          },
        },
        facts: {
          description: t.description,
          order: t.order_snapshot,
          createdAt: t.created_at.toISOString(),
        },
        attachments: attachments.map((a) => ({
          id: a.id,
          filename: a.filename,
          sha256: a.sha256,
          contentType: a.contentType,
        })),
        trail: { length: t.event_count, headHash: t.head_hash },
        office: { id: t.office_id, name: office },
        generatedAt: this.clock.now().toISOString(),
      };
    });
  }

  /**
   * The ticket view with what happens next (DESIGN.md: after escalation the consumer sees the
   * office's name and what the packet still needs). Merchants' views are left as they are.
   */
  async withEscalationSummary<V extends TicketView>(
    view: V,
    actor: Actor,
  ): Promise<V & Partial<EscalationSummary>> {
    if (actor.role === 'merchant' || !view.escalatedAt) return view;
    const [t] = [await this.row(this.db.manager, view.id)];
    if (!t) return view;
    const office = t.office_id ? await this.officeName(this.db.manager, t.office_id) : null;
    const [c]: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM complaint_complainants WHERE complaint_id = $1`,
      [t.id],
    );
    const missing = missingFields(t, c.n > 0 ? 'sealed' : null, await readRespondent(this.db, t));
    return { ...view, officeName: office, casePacket: { complete: !missing.length, missing } };
  }

  private async row(db: Pick<EntityManager, 'query'>, id: string): Promise<ComplaintRow | null> {
    const [t]: ComplaintRow[] = await db.query('SELECT * FROM complaints WHERE id = $1', [id]);
    return t ?? null;
  }

  private async officeName(
    db: Pick<EntityManager, 'query'>,
    officeId: string,
  ): Promise<string | null> {
    return OfficeReads.name(db, officeId);
  }
}
