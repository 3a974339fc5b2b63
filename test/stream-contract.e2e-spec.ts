/*
 * GET /v1/stream as the OpenAPI document describes it: its 200 `text/event-stream` content is
 * oneOf one schema per event (SSE `event`, `id`, JSON `data`), and what a real stream sends fits
 * them: each event's name is in the document, `data` has every required field and none the
 * document does not list (the ticket checked against TicketResponse). The dashboards' EventSource
 * listeners are typed from this description (apps/web/src/live.tsx).
 * Region code 540202 (Xigazê) is this suite's own.
 */
import { get as httpGet } from 'node:http';
import type { ClientRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, startTestApp, TestApp } from './helpers/test-app';
import { createShop, ticketIn } from './factories/complaint.factory';

interface Schema {
  $ref?: string;
  type?: string;
  enum?: string[];
  required?: string[];
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  allOf?: Schema[];
  discriminator?: { propertyName: string; mapping: Record<string, string> };
}
interface Message {
  event: string;
  id?: string;
  data: unknown;
}

/** A raw SSE client: every message, its `event`, `id` and parsed `data`. */
function openStream(url: string) {
  const messages: Message[] = [];
  let req!: ClientRequest;
  const opened = new Promise<number>((resolve, reject) => {
    req = httpGet(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m: Partial<Message> & { lines: string[] } = { lines: [] };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) m.event = line.slice(7);
            else if (line.startsWith('id: ')) m.id = line.slice(4);
            else if (line.startsWith('data: ')) m.lines.push(line.slice(6));
          }
          if (m.lines.length)
            messages.push({
              event: m.event ?? 'message',
              id: m.id,
              data: JSON.parse(m.lines.join('\n')),
            });
        }
      });
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  const next = async (pred: (m: Message) => boolean): Promise<Message | undefined> => {
    for (let i = 0; i < 200; i++) {
      const found = messages.find(pred);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  };
  return { opened, messages, next, close: () => req.destroy() };
}

describe('GET /v1/stream: the events are the ones the OpenAPI document describes', () => {
  let t: TestApp;
  let base: string;
  let doc: { components: { schemas: Record<string, Schema> }; paths: Record<string, any> };
  beforeAll(async () => {
    t = await startTestApp({ STREAM_POLL_INTERVAL_MS: '100' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    doc = (await t.http.get('/docs-json').expect(200)).body;
  });
  afterAll(() => t.close());

  /** The schema a $ref (or a described `allOf: [$ref]`) names. */
  const resolve = (s: Schema): Schema =>
    s.$ref
      ? resolve(doc.components.schemas[s.$ref.split('/').pop()!])
      : s.allOf?.length === 1
        ? resolve(s.allOf[0])
        : s;
  /** The fields of `value` that `schema` does not list, and the required ones it lacks. */
  const misfit = (value: Record<string, unknown>, schema: Schema, at: string): string[] => {
    const s = resolve(schema);
    const props = s.properties ?? {};
    return [
      ...Object.keys(value)
        .filter((k) => !(k in props))
        .map((k) => `${at}.${k}: not in the document`),
      ...(s.required ?? []).filter((k) => !(k in value)).map((k) => `${at}.${k}: missing`),
    ];
  };

  it('documents each event, and a merchant stream sends exactly that shape', async () => {
    const content = doc.paths['/v1/stream'].get.responses['200'].content['text/event-stream'];
    const union = content.schema as Schema;
    expect(union.discriminator?.propertyName).toBe('event');
    const byEvent = new Map(
      union.oneOf!.map((ref) => {
        const s = resolve(ref);
        return [s.properties!.event.enum![0], s] as const;
      }),
    );
    expect([...byEvent.keys()].sort()).toEqual(['ready', 'ticket']);
    expect(Object.keys(union.discriminator!.mapping).sort()).toEqual(['ready', 'ticket']);

    const shop = await createShop(t, '540202');
    const ticket = await t.http.post('/v1/stream/ticket').set(shop.staff).expect(201);
    const stream = openStream(`${base}/v1/stream?ticket=${ticket.body.ticket}`);
    try {
      expect(await stream.opened).toBe(200);
      expect(await stream.next((m) => m.event === 'ready')).toBeDefined();
      const tk = await ticketIn(t, shop, 'in_negotiation');
      const change = await stream.next(
        (m) =>
          m.event === 'ticket' &&
          (m.data as { ticket: { id: string; status: string } }).ticket.id === tk.id &&
          (m.data as { ticket: { status: string } }).ticket.status === 'in_negotiation',
      );
      expect(change).toBeDefined();

      const problems: string[] = [];
      for (const m of stream.messages) {
        const schema = byEvent.get(m.event);
        if (!schema) {
          problems.push(`${m.event}: an event the document does not list`);
          continue;
        }
        const envelope = m.id === undefined ? { event: m.event, data: m.data } : m;
        problems.push(...misfit({ ...envelope }, schema, m.event));
        const data = m.data as Record<string, unknown>;
        problems.push(...misfit(data, schema.properties!.data, `${m.event}.data`));
        if (m.event === 'ticket') {
          const ticketSchema = resolve(schema.properties!.data).properties!.ticket;
          problems.push(
            ...misfit(data.ticket as Record<string, unknown>, ticketSchema, 'ticket.data.ticket'),
          );
        }
      }
      expect(problems).toEqual([]);
      expect(change!.id).toMatch(new RegExp(`^${tk.id}:\\d+$`));
    } finally {
      stream.close();
    }
  });

  it('the stream is refused without a ticket (401), as documented', async () => {
    const res = await t.http.get('/v1/stream').set(bearer(t.token({ role: 'admin' })));
    expect(res.status).toBe(401);
    expect(Object.keys(doc.paths['/v1/stream'].get.responses)).toEqual(
      expect.arrayContaining(['200', '401', '429']),
    );
  });
});
