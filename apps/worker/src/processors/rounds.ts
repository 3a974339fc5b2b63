/**
 * Runs `round` again until one handled fewer than a full `batch` (nothing more due and
 * unlocked), and returns the counts of all rounds added up, key by key.
 */
export async function roundsUntilShort<R extends { [K in keyof R]: number }>(
  batch: number,
  round: () => Promise<R>,
  handled: (r: R) => number,
): Promise<R> {
  const total = { ...(await round()) };
  let last: R = total;
  while (handled(last) >= batch) {
    last = await round();
    for (const key of Object.keys(last) as (keyof R)[]) {
      total[key] = (total[key] + last[key]) as R[keyof R];
    }
  }
  return total;
}
