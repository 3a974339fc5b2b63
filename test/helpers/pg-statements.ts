import { Client } from 'pg';

/**
 * The SQL texts every pg client of this process sends while `run` runs (round-trip guards:
 * "a creation sends exactly two statements").
 */
export async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
  return (await namedStatementsOf(run)).map((s) => s.text);
}

/** The same, with the name each was sent under (undefined: an unnamed statement). */
export async function namedStatementsOf(
  run: () => Promise<unknown>,
): Promise<{ name?: string; text: string }[]> {
  const sent: { name?: string; text: string }[] = [];
  const query = Client.prototype.query;
  const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (
    this: Client,
    ...args: unknown[]
  ) {
    const q = args[0] as string | { name?: string; text: string };
    sent.push(typeof q === 'string' ? { text: q } : { name: q.name, text: q.text });
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query);
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return sent;
}
