import type { IncomingMessage } from 'node:http';
import { redactStreamToken, streamTicketOf, streamTokenOf } from './redact-token';

const req = (url: string) => ({ url }) as IncomingMessage;

/**
 * Fastify's rewriteUrl (app.factory.ts): a stream ticket or an old `?token=` link leaves the URL
 * before routing and before the request logger writes it (docs/SECURITY.md, "No credential in a
 * URL or a log line"); the stream controller still gets the ticket.
 */
describe('redactStreamToken', () => {
  it('takes ticket and token out of /v1/stream URLs, keeping them aside for the route', () => {
    const r = req('/v1/stream?ticket=abc-def&x=1');
    expect(redactStreamToken(r)).toBe('/v1/stream?ticket=%5Bredacted%5D&x=1');
    expect(streamTicketOf(r)).toBe('abc-def');
    const old = req('/v1/stream?token=eyJhbGciOi.payload.sig');
    expect(redactStreamToken(old)).toBe('/v1/stream?token=%5Bredacted%5D');
    expect(streamTokenOf(old)).toBe('eyJhbGciOi.payload.sig');
  });

  it('takes an admin JWT out of old Bull Board links', () => {
    const r = req('/admin/queues/api/queues?token=eyJhbGciOi.payload.sig&page=1');
    expect(redactStreamToken(r)).toBe('/admin/queues/api/queues?token=%5Bredacted%5D&page=1');
  });

  it('leaves every other URL as it is', () => {
    for (const url of [
      '/v1/stream',
      '/v1/complaints?cursor=abc&ticket=x',
      '/admin/queues?page=1',
      '/v1/receipts?token=kept-elsewhere',
    ]) {
      const r = req(url);
      expect(redactStreamToken(r)).toBe(url);
      expect(streamTicketOf(r)).toBeUndefined();
    }
  });
});
