import { once } from 'node:events';
import type { Client } from 'pg';

/**
 * `COPY … FROM STDIN` with the bare `pg` client (no pg-copy-streams in this repository): a
 * "submittable" that pg runs like a query, streaming `chunks` (COPY text format) with back-pressure.
 */
class CopyFrom {
  callback?: (err: Error | null, rows?: number) => void;
  private rows = 0;
  private failed: Error | null = null;

  constructor(
    private readonly text: string,
    private readonly chunks: Buffer[],
  ) {}

  submit(connection: { query(text: string): void }): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: {
    stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
    sendCopyFromChunk(b: Buffer): void;
    endCopyFrom(): void;
  }): void {
    void (async () => {
      for (const c of this.chunks) {
        connection.sendCopyFromChunk(c);
        if (connection.stream.writableNeedDrain) await once(connection.stream, 'drain');
      }
      connection.endCopyFrom();
    })();
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rows = Number(m[1]);
  }

  handleError(err: Error): void {
    this.failed = err;
  }

  handleReadyForQuery(): void {
    this.callback?.(this.failed, this.rows);
  }

  handleEmptyQuery(): void {}
  handleCopyData(): void {}
}

export function copyFrom(client: Client, text: string, chunks: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const q = new CopyFrom(text, chunks);
    q.callback = (err, rows) => (err ? reject(err) : resolve(rows ?? 0));
    (client as unknown as { query(q: CopyFrom): void }).query(q);
  });
}

/** One value in COPY's text format (\N for null; backslash, tab, newline and CR escaped). */
export function copyValue(v: string | number | null): string {
  if (v === null) return '\\N';
  return String(v)
    .replace(/\\/g, '\\\\')
    .replace(/\t/g, '\\t')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
}
