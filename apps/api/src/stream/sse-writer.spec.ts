import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { Subject } from 'rxjs';
import type { MessageEvent } from '@nestjs/common';
import { formatSse, pipeEventsToResponse } from './sse-writer';
import type { SseEnd } from './sse-writer';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('formatSse', () => {
  it('writes event, id and one data line per line; comments as comments', () => {
    expect(formatSse({ type: 'ticket', id: 'a:1', data: { x: 1 } })).toBe(
      'event: ticket\nid: a:1\ndata: {"x":1}\n\n',
    );
    expect(formatSse({ data: 'two\nlines' })).toBe('data: two\ndata: lines\n\n');
    expect(formatSse({ comment: 'keep-alive' } as MessageEvent)).toBe(': keep-alive\n\n');
  });
});

describe('pipeEventsToResponse: slow readers are dropped', () => {
  let server: Server;
  let responses: ServerResponse[];
  let ends: SseEnd[];
  /** Each connection has its own source; `events` is the latest one's. */
  let events: Subject<MessageEvent>;
  const limits = { maxBufferBytes: 64 * 1024, graceMs: 200 };

  beforeEach(() => {
    ends.length = 0;
  });
  beforeAll(async () => {
    responses = [];
    ends = [];
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      events = new Subject<MessageEvent>();
      responses.push(res);
      pipeEventsToResponse(events, res, limits, (r) => ends.push(r));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** A client that sends its request and then never reads (a paused socket). */
  async function stalledClient(): Promise<Socket> {
    const { port } = server.address() as AddressInfo;
    const before = responses.length;
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
    socket.pause();
    for (let i = 0; i < 100 && responses.length === before; i++) await wait(10);
    return socket;
  }

  it('closes a stream whose unsent bytes stay above the limit past the grace period', async () => {
    const socket = await stalledClient();
    const res = responses.at(-1)!;
    // 16 KiB events until the kernel's socket buffers are full and bytes pile up here,
    // just past the limit (well below the hard cap of four times it).
    const chunk = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 4000; i++) {
      if (res.writableLength > limits.maxBufferBytes) {
        await wait(20); // the kernel may still take some: only stop once it takes no more
        if (res.writableLength > limits.maxBufferBytes) break;
      }
      events.next({ type: 'ticket', data: chunk });
      if (i % 16 === 0) await wait(1);
    }
    expect(res.writableLength).toBeGreaterThan(limits.maxBufferBytes);
    expect(ends).toEqual([]); // not yet: the grace period runs
    await wait(limits.graceMs + 100);
    expect(ends).toEqual(['slow-reader']);
    expect(res.destroyed).toBe(true);
    // Nothing more is buffered for it.
    events.next({ type: 'ticket', data: chunk });
    expect(res.writableLength).toBe(0);
    socket.destroy();
  });

  it('closes at once past four times the limit', async () => {
    ends.length = 0;
    const socket = await stalledClient();
    const res = responses.at(-1)!;
    const big = 'x'.repeat(512 * 1024);
    for (let i = 0; i < 64 && !ends.length; i++) {
      events.next({ type: 'ticket', data: big });
      await wait(1);
    }
    expect(ends).toEqual(['slow-reader']);
    expect(res.destroyed).toBe(true);
    socket.destroy();
  });

  it('keeps a reader that falls behind only briefly', async () => {
    ends.length = 0;
    const { port } = server.address() as AddressInfo;
    const before = responses.length;
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    for (let i = 0; i < 100 && responses.length === before; i++) await wait(10);
    // Below the hard cap (4 × the limit) and read within the grace period.
    for (let i = 0; i < 4; i++) events.next({ type: 'ticket', data: 'y'.repeat(32 * 1024) });
    for (let i = 0; i < 100 && received < 4 * 32 * 1024; i++) await wait(10);
    await wait(limits.graceMs + 100);
    expect(ends).toEqual([]);
    expect(responses.at(-1)!.destroyed).toBe(false);
    socket.destroy();
    for (let i = 0; i < 100 && !ends.length; i++) await wait(10);
    expect(ends).toEqual(['client-closed']);
  });
});
