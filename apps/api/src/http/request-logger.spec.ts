import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pinoHttp from 'pino-http';
import { requestLoggerOptions } from './request-logger';

describe('request logger', () => {
  it('never writes tokens, cookies or the session it sets', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pinoHttp(
      requestLoggerOptions({ logLevel: 'info' }, () => 'req-1'),
      sink,
    );
    const server = createServer((req, res) => {
      log(req, res);
      res.setHeader('set-cookie', 'hejie_admin_session=SESSION-SECRET; Path=/admin/queues');
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      request(
        {
          port,
          host: '127.0.0.1',
          path: '/admin/queues',
          headers: {
            authorization: 'Bearer JWT-SECRET',
            cookie: 'hejie_admin_session=COOKIE-SECRET',
            'x-hejie-signature': 'SIG-SECRET',
          },
        },
        (res) => res.resume().on('end', resolve),
      )
        .on('error', reject)
        .end();
    });
    await new Promise<void>((r) => server.close(() => r()));
    const text = lines.join('');
    expect(text).toContain('"url":"/admin/queues"');
    expect(text).toContain('[Redacted]');
    for (const secret of ['JWT-SECRET', 'COOKIE-SECRET', 'SESSION-SECRET', 'SIG-SECRET']) {
      expect(text).not.toContain(secret);
    }
  });
});
