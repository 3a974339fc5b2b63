/*
 * The multi-machine topology of DESIGN.md ("Scale") on this machine: scripts/topology.sh brings
 * up a PostgreSQL primary and a streaming replica, a six-node Redis Cluster and HAProxy; this
 * file starts the Hejie processes on them (two APIs behind HAProxy, two workers) and talks to
 * them over HTTP and SQL, as an operator would.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtService } from '@nestjs/jwt';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { baseDataSourceOptions } from '../../libs/database/src/base-options';
import { creditCodeCheckChar } from '../../libs/directory/src/credit-code';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'topology.sh');

export const JWT_SECRET = 'topology-test-secret-0123456789abcdef-0123';
export const HMAC_SECRET = 'topology-hmac-secret';

export interface Topology {
  dir: string;
  env: Record<string, string>;
  primaryUrl: string;
  replicaUrl: string;
  lb: string;
  sql(text: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function topologyUp(): Promise<Topology> {
  const parent = mkdtempSync(join(tmpdir(), 'hejie-topology-'));
  chmodSync(parent, 0o755); // the servers run as the postgres and redis users
  const dir = join(parent, 'run');
  const out = execFileSync('bash', [SCRIPT, 'up', dir], { encoding: 'utf8' });
  const env: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  const primaryUrl = env.DATABASE_URL.replace(/\/postgres$/, '/hejie');
  const replicaUrl = env.DATABASE_REPLICA_URL.replace(/\/postgres$/, '/hejie');
  const admin = new Client({ connectionString: env.DATABASE_URL });
  await admin.connect();
  await admin.query('CREATE DATABASE hejie');
  await admin.end();
  const ds = new DataSource(baseDataSourceOptions(primaryUrl));
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
  const primary = new Client({ connectionString: primaryUrl });
  await primary.connect();
  return {
    dir,
    env,
    primaryUrl,
    replicaUrl,
    lb: `http://127.0.0.1:${env.LB_PORT}`,
    sql: async (text, params) => (await primary.query(text, params)).rows,
    close: () => primary.end(),
  };
}

export async function topologyDown(t: Topology | undefined): Promise<void> {
  if (!t) return;
  await t.close().catch(() => undefined);
  execFileSync('bash', [SCRIPT, 'down', t.dir], { stdio: 'ignore' });
}

/** Environment shared by every Hejie process of the topology. */
export function hejieEnv(t: Topology, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: t.primaryUrl,
    DATABASE_REPLICA_URL: t.replicaUrl,
    REPLICA_CHECK_INTERVAL: '300ms',
    REPLICA_MAX_LAG: '5s',
    REDIS_CLUSTER_NODES: t.env.REDIS_CLUSTER_NODES,
    QUEUE_PREFIX: 'hejie_topology',
    JWT_SECRET,
    PII_KEY: Buffer.alloc(32, 7).toString('base64'),
    RECEIPT_HMAC_SECRET: HMAC_SECRET,
    AUTH_DEV_LOGIN: 'false',
    METRICS_TOKEN: 'topology-metrics-token',
    RATE_LIMIT: '100000',
    WRITE_RATE_LIMIT: '100000',
    LOG_LEVEL: 'warn',
    DATABASE_POOL_SIZE: '10',
    ...extra,
  };
}

export interface Proc {
  proc: ChildProcess;
  log: () => string;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

/** A Hejie process from its TypeScript sources (ts-node), as the worker tests start one. */
async function spawnTs(
  entry: string,
  env: Record<string, string>,
  ready: (out: string) => Promise<boolean> | boolean,
): Promise<Proc> {
  let out = '';
  const proc = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', entry],
    {
      cwd: ROOT,
      env: { ...process.env, ...env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 150_000;
  while (!(await ready(out))) {
    if (proc.exitCode !== null) throw new Error(`${entry} exited at boot:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`${entry} did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    proc,
    log: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

export function spawnApi(t: Topology, port: string, extra: Record<string, string> = {}) {
  const env = hejieEnv(t, { PORT: port, HOST: '127.0.0.1', ...extra });
  return spawnTs('apps/api/src/main.ts', env, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok;
    } catch {
      return false;
    }
  });
}

export function spawnWorker(t: Topology, extra: Record<string, string> = {}) {
  return spawnTs('apps/worker/src/main.ts', hejieEnv(t, { LOG_LEVEL: 'info', ...extra }), (out) =>
    out.includes('worker started'),
  );
}

const jwt = new JwtService({ secret: JWT_SECRET });
export function token(claims: Record<string, string>): string {
  return jwt.sign({ sub: `${claims.role}-user`, ...claims }, { expiresIn: '1h' });
}

/** JSON over HTTP; returns status and parsed body. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  const raw = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (raw !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: raw });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

/** A merchant with one store in Hangzhou and an office covering it, made through the API. */
export async function seedDirectory(
  base: string,
): Promise<{ merchantId: string; account: string }> {
  const admin = token({ role: 'admin' });
  const creditCode = freshCreditCode();
  const m = await call(base, 'POST', '/v1/merchants', {
    token: admin,
    body: { name: '拓扑茶馆', creditCode },
  });
  if (m.status !== 201) throw new Error(`merchant: ${m.status} ${JSON.stringify(m.body)}`);
  const account = `topo${randomBytes(6).toString('hex')}`;
  const s = await call(base, 'POST', `/v1/merchants/${m.body.id}/stores`, {
    token: admin,
    body: {
      name: 'Lakeside',
      address: '杭州市西湖区北山街1号',
      regionCode: '330106',
      paymentAccounts: [{ provider: 'sunmi-pos', accountId: account }],
    },
  });
  if (s.status !== 201) throw new Error(`store: ${s.status} ${JSON.stringify(s.body)}`);
  const o = await call(base, 'POST', '/v1/offices', {
    token: admin,
    body: { name: '杭州市市场监督管理局', regionCodes: ['3301'] },
  });
  if (o.status !== 201) throw new Error(`office: ${o.status} ${JSON.stringify(o.body)}`);
  return { merchantId: m.body.id, account };
}

/** A signed generic receipt for `payerId` at `account`; returns the receipt id. */
export async function postReceipt(base: string, account: string, payerId: string) {
  const body = JSON.stringify({
    provider: 'sunmi-pos',
    tradeNo: `TOPO${randomBytes(8).toString('hex')}`,
    payerId,
    accountId: account,
    amountMinor: 3500,
    currency: 'CNY',
    paidAt: new Date(Date.now() - 3600_000).toISOString(),
    subject: '龙井茶 250g',
  });
  const res = await fetch(`${base}/v1/receipts`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hejie-signature': `sha256=${createHmac('sha256', HMAC_SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  const json = (await res.json()) as { id: string };
  if (res.status !== 201) throw new Error(`receipt: ${res.status} ${JSON.stringify(json)}`);
  return json.id;
}

export function complaintBody(receiptId: string) {
  return {
    receiptId,
    category: 'quality',
    demand: { type: 'refund', amountMinor: 3500 },
    description: 'The tea arrived stale and the seal was broken.',
  };
}

/** Sum of a Prometheus counter (all label sets matching `labels`) over the API processes. */
export async function metric(ports: string[], name: string, labels = ''): Promise<number> {
  let sum = 0;
  for (const port of ports) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: 'Bearer topology-metrics-token' },
      });
      const text = await res.text();
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name}{`) && line.includes(labels))
          sum += Number(line.split(' ').pop());
      }
    } catch {
      /* a killed process has no metrics */
    }
  }
  return sum;
}

export function pgCtl(t: Topology, which: 'pg1' | 'pg2', action: 'start' | 'stop'): void {
  const args = ['-D', join(t.dir, which), '-w', action];
  if (action === 'stop') args.push('-m', 'immediate');
  else args.push('-l', join(t.dir, 'pglog', `${which}.log`));
  const cmd = join(t.env.PGBIN, 'pg_ctl');
  if (process.getuid?.() === 0)
    execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' });
  else execFileSync(cmd, args, { stdio: 'ignore' });
}

/** The Redis master that holds `slotKey`'s slot, and its pid file. */
export function masterFor(t: Topology, key: string): { port: string; pid: number } {
  // Ask a node that answers: the first one may be the master a test has just killed.
  const anyPort = t.env.REDIS_PORTS.split(' ').find((p) => {
    try {
      execFileSync('redis-cli', ['-p', p, 'ping'], { stdio: 'ignore', timeout: 1000 });
      return true;
    } catch {
      return false;
    }
  });
  if (!anyPort) throw new Error('no Redis node answers');
  const slot = Number(
    execFileSync('redis-cli', ['-p', anyPort, 'cluster', 'keyslot', key], { encoding: 'utf8' }),
  );
  const nodes = execFileSync('redis-cli', ['-p', anyPort, 'cluster', 'nodes'], {
    encoding: 'utf8',
  });
  for (const line of nodes.trim().split('\n')) {
    const f = line.split(' ');
    if (!f[2].includes('master') || f[2].includes('fail')) continue;
    for (const range of f.slice(8)) {
      const [a, b] = range.split('-').map(Number);
      if (slot >= a && slot <= (b ?? a)) {
        const port = f[1].split(':')[1].split('@')[0];
        const pid = Number(readFileSync(join(t.dir, 'redis', `${port}.pid`), 'utf8'));
        return { port, pid };
      }
    }
  }
  throw new Error(`no master for slot ${slot}`);
}

export async function until<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  ms: number,
): Promise<T> {
  const end = Date.now() + ms;
  let v = await probe();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 250));
    v = await probe();
  }
  return v;
}

function freshCreditCode(): string {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  let body = '91330106';
  const rnd = randomBytes(9);
  for (let i = 0; i < 9; i++) body += alphabet[rnd[i] % alphabet.length];
  return body + creditCodeCheckChar(body);
}
