import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import jwt from 'jsonwebtoken';
import { creditCodeCheckChar } from '../../libs/directory/src/credit-code';
import { generateRsaKeyPair } from '../../libs/receipts/src/verifiers/test-signers';
import type { RsaKeyPair } from '../../libs/receipts/src/verifiers/test-signers';
import { Child, startApi, startFloor, startWorker } from './apps';
import { BenchDb, freshDatabase } from './db';
import { Options, ROOT, log } from './cli';

export const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef';
export const HMAC_SECRET = 'bench-hmac-secret-0123456789';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** One scenario's world: a fresh database, its own BullMQ prefix, keys, and the apps' env. */
export interface Stage {
  tag: string;
  db: BenchDb & { reused: boolean };
  prefix: string;
  alipay: RsaKeyPair;
  env: Record<string, string>;
  opts: Options;
  /** Profiles of this stage's API and workers (under --cpu-prof). */
  profDir?: string;
  children: Child[];
  startApi(extra?: Record<string, string>): Promise<Child & { url: string }>;
  startWorker(index: number, extra?: Record<string, string>): Promise<Child>;
  /** The bare node:http + pg floor server on this stage's database. */
  startFloor(): Promise<Child & { url: string }>;
  close(): Promise<void>;
}

const openStages = new Set<Stage>();
let interrupted = false;

/** Ctrl-C: stop the apps, drop the databases and queue keys of the stages still open, then exit. */
function onInterrupt(signal: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  console.error(`\n${signal}: cleaning up ${openStages.size} open stage(s)…`);
  void Promise.allSettled([...openStages].map((s) => s.close())).then(() => process.exit(130));
}

export const isInterrupted = () => interrupted;

/** `reuseDb`: that database's name, kept and reused across runs (see freshDatabase). */
export async function openStage(tag: string, opts: Options, reuseDb?: string): Promise<Stage> {
  if (interrupted) throw new Error('interrupted');
  if (!openStages.size) {
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
  }
  const db = await freshDatabase(tag, opts.keepDb, reuseDb);
  const prefix = `hejie_bench_${tag}_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const alipay = generateRsaKeyPair('bench-alipay');
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    DATABASE_URL: db.url,
    REDIS_URL,
    JWT_SECRET,
    PII_KEY: randomBytes(32).toString('base64'),
    ALIPAY_PUBLIC_KEY: alipay.publicKeyPem,
    RECEIPT_HMAC_SECRET: HMAC_SECRET,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    // The configuration's ceiling (1,000,000 per window): the load generator is one caller per
    // receipt, but nothing here is about the rate limiter.
    RATE_LIMIT: '1000000',
    WRITE_RATE_LIMIT: '1000000',
    SWEEP_INTERVAL: '1s',
    MERCHANT_RESPONSE_SLA: '96h',
    AUTH_DEV_LOGIN: 'false',
  };
  const profDir = opts.cpuProf
    ? join(
        ROOT,
        'reports/bench-profiles',
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${tag}`,
      )
    : undefined;
  // Each app runs as its `npm run start:<app>` starts it (V8 flags and environment such as
  // MALLOC_ARENA_MAX); --max-old-space-size= on the bench's command line replaces the heap limit.
  const api = launchOf('api', opts.maxOldSpaceMb, opts.maxSemiSpaceMb);
  const worker = launchOf('worker', opts.maxOldSpaceMb, opts.maxSemiSpaceMb);
  const children: Child[] = [];
  let closing: Promise<void> | undefined;
  /** Every child is stopped at close; one that finished booting after close began is stopped now. */
  const track = async <C extends Child>(c: C): Promise<C> => {
    if (closing) {
      await c.stop();
      await closing;
      await cleanRedis(prefix);
      throw new Error('stage closed');
    }
    children.push(c);
    return c;
  };
  const stage: Stage = {
    tag,
    db,
    prefix,
    alipay,
    env,
    opts,
    profDir,
    children,
    startApi: async (extra = {}) =>
      track(await startApi({ ...env, ...api.env, ...extra }, profDir, api.nodeFlags)),
    startFloor: async () => track(await startFloor(env)),
    startWorker: async (index, extra = {}) =>
      track(
        await startWorker(
          { ...env, ...worker.env, ...workerNodeOptions(), ...extra },
          index,
          profDir,
          worker.nodeFlags,
        ),
      ),
    close: () => {
      closing ??= (async () => {
        openStages.delete(stage);
        await Promise.all(children.map((c) => c.stop()));
        await db.drop();
        await cleanRedis(prefix);
        if (profDir) log(`CPU profiles: ${profDir}`);
      })();
      return closing;
    },
  };
  openStages.add(stage);
  return stage;
}

/** BENCH_WORKER_NODE_OPTIONS: NODE_OPTIONS for the workers (e.g. `-r <a memory sampler>`). */
function workerNodeOptions(): Record<string, string> {
  const o = process.env.BENCH_WORKER_NODE_OPTIONS;
  return o ? { NODE_OPTIONS: o } : {};
}

export async function cleanRedis(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export interface Claims {
  role: 'consumer' | 'merchant' | 'regulator' | 'admin';
  sub: string;
  merchantId?: string;
  officeId?: string;
}

export function token(claims: Claims, ttlSeconds = 4 * 3600): string {
  return jwt.sign({ ...claims }, JWT_SECRET, { algorithm: 'HS256', expiresIn: ttlSeconds });
}

export const ADMIN = () => token({ role: 'admin', sub: 'bench-admin' });

const CC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export function newCreditCode(region = '330106'): string {
  let body = `91${region}`;
  const rnd = randomBytes(9);
  for (let i = 0; i < 9; i++) body += CC_ALPHABET[rnd[i] % CC_ALPHABET.length];
  return body + creditCodeCheckChar(body);
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN()}` },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${url} → ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export interface BenchStore {
  merchantId: string;
  storeId: string;
  regionCode: string;
  accounts: Record<string, string>;
}

/** A merchant with one store and a payment account per provider, through the API. */
export async function createMerchantWithStore(
  apiUrl: string,
  regionCode = '330106',
  providers = ['alipay', 'sunmi-pos'],
): Promise<BenchStore> {
  const m = await post<{ id: string }>(`${apiUrl}/v1/merchants`, {
    name: `Bench Tea House ${randomBytes(3).toString('hex')}`,
    creditCode: newCreditCode(),
  });
  const accounts: Record<string, string> = {};
  for (const p of providers)
    accounts[p] = `bench${p.replace(/\W/g, '')}${randomBytes(5).toString('hex')}`;
  const s = await post<{ id: string }>(`${apiUrl}/v1/merchants/${m.id}/stores`, {
    name: 'Lakeside store',
    address: '杭州市西湖区北山街1号',
    regionCode,
    paymentAccounts: Object.entries(accounts).map(([provider, accountId]) => ({
      provider,
      accountId,
    })),
  });
  return { merchantId: m.id, storeId: s.id, regionCode, accounts };
}

export async function createOffice(apiUrl: string, regionCodes: string[]): Promise<string> {
  const o = await post<{ id: string }>(`${apiUrl}/v1/offices`, {
    name: `Bench market regulation office ${regionCodes.join(',')}`,
    regionCodes,
  });
  return o.id;
}

/** How `npm run start:<app>` (package.json) launches an app: its environment and V8 flags. */
export interface Launch {
  env: Record<string, string>;
  nodeFlags: string[];
}

/**
 * `npm run start:<app>` read from package.json — `K=V … node --flag … dist/…` — so that what is
 * measured is what ships. `maxOldSpaceMb` (the bench's --max-old-space-size=) replaces the limit,
 * `maxSemiSpaceMb` (--max-semi-space-size=) the semi-space size, for A/B runs.
 */
export function launchOf(
  app: 'api' | 'worker',
  maxOldSpaceMb?: number,
  maxSemiSpaceMb?: number,
): Launch {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const words = (pkg.scripts?.[`start:${app}`] ?? '').split(/\s+/).filter(Boolean);
  const node = words.indexOf('node');
  const env: Record<string, string> = {};
  for (const w of words.slice(0, Math.max(node, 0))) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w);
    if (m) env[m[1]] = m[2];
  }
  let nodeFlags = node < 0 ? [] : words.slice(node + 1).filter((w) => w.startsWith('--'));
  // A size from the bench's command line replaces the one start:<app> ships with.
  const replace = (flag: string, mb?: number) => {
    if (mb) nodeFlags = [...nodeFlags.filter((f) => !f.startsWith(`${flag}=`)), `${flag}=${mb}`];
  };
  replace('--max-old-space-size', maxOldSpaceMb);
  replace('--max-semi-space-size', maxSemiSpaceMb);
  return { env, nodeFlags };
}

/** How the apps were launched in this run, for a scenario's notes. */
export function heapNote(opts: { maxOldSpaceMb?: number; maxSemiSpaceMb?: number }): string {
  const shown = (app: 'api' | 'worker') => {
    const l = launchOf(app, opts.maxOldSpaceMb, opts.maxSemiSpaceMb);
    const env = Object.entries(l.env).map(([k, v]) => `${k}=${v}`);
    return [...env, ...l.nodeFlags].join(' ') || "Node's defaults";
  };
  return `Apps run as npm run start:api / start:worker ship them${opts.maxOldSpaceMb || opts.maxSemiSpaceMb ? ' (V8 sizes from the command line)' : ''}: api ${shown('api')}; worker ${shown('worker')}.`;
}
