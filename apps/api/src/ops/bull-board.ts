import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardFastifyAdapter } from '@bull-board/fastify';
import { JwtService } from '@nestjs/jwt';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Queue } from 'bullmq';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ALL_JOBS, DEADLINES_QUEUE } from '@app/complaints';
import { bullConnection, queueKeyPrefix } from '@app/shared';
import type { HejieConfig } from '@app/shared';
import { actorFromClaims } from '../http/auth';
import { problemOf } from '../http/problem';

export const BULL_BOARD_PATH = '/admin/queues';
const COOKIE = 'hejie_admin_token';

function tokenOf(req: FastifyRequest): { token: string | null; fromQuery: boolean } {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+\S+$/i.test(auth))
    return { token: auth.split(/\s+/)[1], fromQuery: false };
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string' && q) return { token: q, fromQuery: true };
  const cookie = req.headers.cookie
    ?.split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`));
  return {
    token: cookie ? decodeURIComponent(cookie.slice(COOKIE.length + 1)) : null,
    fromQuery: false,
  };
}

/**
 * Bull Board for operators at /admin/queues, admins only. A browser cannot send a bearer header
 * on page loads, so `?token=<admin JWT>` once sets an HttpOnly cookie scoped to this path.
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

  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    const { token, fromQuery } = tokenOf(req);
    let ok = false;
    if (token) {
      try {
        ok = actorFromClaims(jwt.verify(token, { algorithms: ['HS256'] })).role === 'admin';
      } catch {
        ok = false;
      }
    }
    if (!ok) {
      const p = problemOf(
        token ? 'FORBIDDEN' : 'UNAUTHENTICATED',
        'the queue dashboard is for admins (?token=<admin JWT>)',
      );
      return reply
        .status(p.status)
        .header('content-type', 'application/problem+json')
        .send(JSON.stringify(p));
    }
    if (fromQuery) {
      void reply.header(
        'set-cookie',
        `${COOKIE}=${encodeURIComponent(token!)}; Path=${BULL_BOARD_PATH}; HttpOnly; SameSite=Strict`,
      );
    }
  };

  const fastify = app.getHttpAdapter().getInstance();
  await fastify.register(async (scope) => {
    scope.addHook('onRequest', guard);
    await scope.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
  return async () => {
    await Promise.all(queues.map((q) => q.close()));
  };
}
