/**
 * Durations in configuration (API.md: `MERCHANT_RESPONSE_SLA=96h`, `SWEEP_INTERVAL=30s`, …).
 *
 * Deliberately strict: one positive integer and one unit, nothing else. The `ms` package
 * (only a transitive dependency here) also takes "1.5h", "-1d", "2 hours" or "1y" and answers
 * `undefined` instead of failing, which would let a typo in a legal time limit boot silently.
 */
const UNIT_MS = {
  ms: 1,
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
} as const;

const DURATION = /^([1-9]\d*)(ms|s|m|h|d)$/;

/** `"90s"` → 90000. Units: ms, s, m, h, d (a day is 24 hours; no calendar arithmetic). */
export function parseDuration(text: string): number {
  const match = typeof text === 'string' ? DURATION.exec(text) : null;
  if (!match) {
    throw new Error(
      `Invalid duration ${JSON.stringify(text)}: expected a positive integer followed by ` +
        `ms, s, m, h or d, e.g. 500ms, 90s, 15m, 96h, 7d`,
    );
  }
  const value = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(value)) {
    throw new Error(`Invalid duration ${JSON.stringify(text)}: too large`);
  }
  return value;
}
