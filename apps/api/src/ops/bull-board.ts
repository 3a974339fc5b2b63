import { createHash, randomBytes } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { JwtService } from '@nestjs/jwt';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type Redis from 'ioredis';
import { ALL_JOBS, DEADLINES_QUEUE } from '@app/complaints';
import { DomainError, bullConnection, queueKeyPrefix } from '@app/shared';
import type { Actor, ErrorCode, HejieConfig } from '@app/shared';
import { verifyToken } from '../auth/verify-token';
import { problemOf } from '../http/problem';
import { WriteLimiter } from '../http/write-rate-limit';
import { REDIS } from './redis.provider';

export const BULL_BOARD_PATH = '/admin/queues';
export const BULL_BOARD_SESSION_PATH = `${BULL_BOARD_PATH}/session`;
export const SESSION_COOKIE = 'hejie_admin_session';

/** The session routes live outside Nest's router; their OpenAPI entry is added by hand. */
export const BULL_BOARD_SESSION_OPENAPI = {
  post: {
    operationId: 'BullBoardSession_open',
    tags: ['operations'],
    summary: 'Open a Bull Board session (admins)',
    description:
      'Send `Authorization: Bearer <admin JWT>`; the answer sets `hejie_admin_session` (random id, HttpOnly, SameSite=Strict, Path=/admin/queues, Secure over https), valid for ADMIN_SESSION_TTL (8h) or until the token expires. /admin/queues then opens in the browser. The token itself never goes in a URL or a cookie.',
    security: [{ bearer: [] }],
    responses: {
      '204': { description: 'session cookie set' },
      '401': { description: 'UNAUTHENTICATED (no or invalid token)' },
      '403': { description: 'FORBIDDEN (not an admin)' },
      '429': { description: 'RATE_LIMITED (the write limit)' },
    },
  },
  delete: {
    operationId: 'BullBoardSession_close',
    tags: ['operations'],
    summary: 'End the Bull Board session',
    responses: { '204': { description: 'session ended, cookie cleared' } },
  },
};

interface Session {
  sub: string;
}

function sendProblem(reply: FastifyReply, code: ErrorCode, detail: string) {
  const p = problemOf(code, detail);
  return reply
    .status(p.status)
    .header('content-type', 'application/problem+json')
    .send(JSON.stringify(p));
}

/**
 * Bull Board for operators at /admin/queues, admins only, without the admin JWT ever being in
 * a URL or a cookie (both end up in logs and browser history):
 *
 * - `POST /admin/queues/session` with `Authorization: Bearer <admin JWT>` answers 204 and sets
 *   `hejie_admin_session`: 32 random bytes, HttpOnly, SameSite=Strict, Path=/admin/queues,
 *   Secure when the request came over https (directly or from a TRUST_PROXY proxy). Redis keeps
 *   the session (under the id's SHA-256) for ADMIN_SESSION_TTL, or until the token would have
 *   expired if that is sooner. `DELETE /admin/queues/session` ends it.
 * - Every other /admin/queues request needs that cookie (or the bearer header, for scripts).
 *   `?token=` is no longer honoured (and is redacted from logged URLs).
 *
 * The dashboards' "Job queues" link (admins) makes the POST, then opens the board.
 */
export async function registerBullBoard(
  app: NestFastifyApplication,
  config: HejieConfig,
): Promise<() => Promise<void>> {
  const names = [...new Set([DEADLINES_QUEUE, ...Object.values(ALL_JOBS)])];
  const connection = bullConnection(config);
  const prefix = queueKeyPrefix(config);
  const queues = names.map((name) => new Queue(name, { connection, prefix }));
  const serverAdapter = new BullBoardFastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: false })),
    serverAdapter,
  });
  const jwt = app.get(JwtService);
  const redis = app.get<Redis>(REDIS);
  const limiter = app.get(WriteLimiter);
  const sessionKey = (id: string) =>
    `${config.queuePrefix}:admin-session:${createHash('sha256').update(id).digest('hex')}`;

  /** The admin behind the request's bearer header; null without one; throws when it is not valid. */
  const bearerAdmin = (req: FastifyRequest): Actor | null => {
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
    if (!m) return null;
    const { actor, exp } = verifyToken(jwt, config, m[1]);
    if (actor.role !== 'admin')
      throw new DomainError('FORBIDDEN', 'the queue dashboard is for admins');
    req.tokenExpiresAtMs = exp * 1000;
    return actor;
  };
  // (@fastify/cookie's parse/serialize load the ESM-only `cookie` 2 lazily, which Jest on
  // Node 20 cannot; the session id is base64url, so nothing here needs encoding.)
  const cookieOf = (req: FastifyRequest): string | undefined => {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, ...value] = part.trim().split('=');
      if (name === SESSION_COOKIE) return value.join('=');
    }
    return undefined;
  };
  const cookie = (req: FastifyRequest, value: string, maxAgeS: number) =>
    [
      `${SESSION_COOKIE}=${value}`,
      `Max-Age=${maxAgeS}`,
      `Path=${BULL_BOARD_PATH}`,
      'HttpOnly',
      'SameSite=Strict',
      ...(req.protocol === 'https' ? ['Secure'] : []),
    ].join('; ');

  const fastify = app.getHttpAdapter().getInstance();

  fastify.post(BULL_BOARD_SESSION_PATH, async (req, reply) => {
    let admin: Actor | null;
    try {
      admin = bearerAdmin(req);
      if (admin) await limiter.consume(admin);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const retryAfter = e.extra.retryAfter;
      if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
      return sendProblem(reply, e.code, e.message);
    }
    if (!admin) {
      return sendProblem(reply, 'UNAUTHENTICATED', 'Authorization: Bearer <admin JWT> is required');
    }
    const untilTokenExpires = (req.tokenExpiresAtMs ?? 0) - Date.now();
    const ttlMs = Math.min(config.adminSessionTtlMs, untilTokenExpires);
    if (ttlMs < 1000) return sendProblem(reply, 'UNAUTHENTICATED', 'the token is about to expire');
    const id = randomBytes(32).toString('base64url');
    const session: Session = { sub: admin.sub };
    await redis.set(sessionKey(id), JSON.stringify(session), 'PX', ttlMs);
    return reply
      .header('set-cookie', cookie(req, id, Math.floor(ttlMs / 1000)))
      .header('cache-control', 'no-store')
      .status(204)
      .send();
  });

  fastify.delete(BULL_BOARD_SESSION_PATH, async (req, reply) => {
    const id = cookieOf(req);
    if (id) await redis.del(sessionKey(id));
    return reply
      .header('set-cookie', cookie(req, '', 0))
      .status(204)
      .send();
  });

  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      if (bearerAdmin(req)) return;
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      return sendProblem(reply, e.code, e.message);
    }
    const id = cookieOf(req);
    if (id && /^[\w-]{43}$/.test(id) && (await redis.get(sessionKey(id)))) return;
    return sendProblem(
      reply,
      'UNAUTHENTICATED',
      'the queue dashboard needs an admin session: POST /admin/queues/session with Authorization: Bearer <admin JWT>',
    );
  };

  await fastify.register(async (scope) => {
    scope.addHook('onRequest', guard);
    await scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
  return async () => {
    await Promise.all(queues.map((q) => q.close()));
  };
}
