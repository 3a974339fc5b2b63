/** `HJ-261123-000042`: Shanghai date of filing and a sequence, short enough to read on a phone. */
export function ticketNumber(at: Date, n: number): string {
  const d = new Date(at.getTime() + 8 * 3600_000).toISOString();
  return `HJ-${d.slice(2, 4)}${d.slice(5, 7)}${d.slice(8, 10)}-${String(n).padStart(6, '0')}`;
}
