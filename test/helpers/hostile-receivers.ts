import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGzip } from 'node:zlib';

/**
 * ~330 MB of UTF-8 text ('中' repeated) gzipped to a few hundred KB. Inflated and decoded as a
 * string it needs ~220 MB of V8 heap: more than the worker's 192 MB.
 */
export async function gzipBomb(inflatedMiB = 330): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('end', () => resolve());
    gzip.on('error', reject);
  });
  const chunk = Buffer.from('中'.repeat(Math.floor((1024 * 1024) / 3)), 'utf8');
  let written = 0;
  while (written < inflatedMiB * 1024 * 1024) {
    if (!gzip.write(chunk)) await new Promise((r) => gzip.once('drain', r));
    written += chunk.length;
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

export interface HostileRequest {
  headers: IncomingHttpHeaders;
  at: number;
}

/**
 * A loopback receiver. `bomb`: answers 500 with the gzip bomb (Content-Encoding: gzip). `stall`:
 * answers 200 headers, then one byte every 200 ms, forever (a slow body). `silent`: accepts the
 * request and never answers. `ok`: 204.
 */
export async function startHostileReceiver(kind: 'bomb' | 'stall' | 'silent' | 'ok') {
  const bomb = kind === 'bomb' ? await gzipBomb() : Buffer.alloc(0);
  const requests: HostileRequest[] = [];
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push({ headers: req.headers, at: Date.now() });
      open.add(res);
      res.on('close', () => open.delete(res));
      switch (kind) {
        case 'bomb':
          res.writeHead(500, {
            'content-type': 'text/plain; charset=utf-8',
            'content-encoding': 'gzip',
            'content-length': bomb.length,
          });
          res.end(bomb);
          return;
        case 'stall': {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const timer = setInterval(() => res.write('.'), 200);
          timers.add(timer);
          res.on('close', () => clearInterval(timer));
          return;
        }
        case 'silent':
          return;
        case 'ok':
          res.statusCode = 204;
          res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    bombBytes: bomb.length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const r of open) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
export type HostileReceiver = Awaited<ReturnType<typeof startHostileReceiver>>;
