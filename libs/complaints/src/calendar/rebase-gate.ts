/**
 * Whether a sweep needs to run the rebase query (RegulatorUseCase.rebaseBatch), which reads
 * every running regulator deadline. Stale bases appear only when a calendar version is loaded:
 * the tickets counted on the older data, plus those another process counted on its snapshot in
 * the few seconds before it saw the new version (CALENDAR_RECHECK_MS). So after a new calendar
 * revision the sweep rebases until a run finds nothing, at least `settleMs` after the revision was
 * first seen, and then skips the query until the next revision (or a restart: the first sweep of a
 * process always runs it, which also picks up the deadlines backfilled by the migration).
 */
export class RebaseGate {
  private revision: number | null = null;
  private firstSeen = 0;
  private clean = false;

  constructor(private readonly settleMs = 60_000) {}

  due(revision: number, nowMs: number): boolean {
    if (revision !== this.revision) {
      this.revision = revision;
      this.firstSeen = nowMs;
      this.clean = false;
    }
    return !this.clean;
  }

  done(revision: number, changed: number, nowMs: number): void {
    if (revision === this.revision && changed === 0 && nowMs - this.firstSeen >= this.settleMs) {
      this.clean = true;
    }
  }
}
