import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { ROOT, log, sleep } from './cli';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last 64 kB of its stdout and stderr. */
  output(): string;
  /** Peak resident set size so far (VmHWM), in MB; null when /proc is not there. */
  peakRssMb(): number | null;
  stop(): Promise<void>;
}

const API_MAIN = join(ROOT, 'dist/apps/api/main.js');
const WORKER_MAIN = join(ROOT, 'dist/apps/worker/main.js');

function newestSource(dir: string): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p);
      } else if (/\.tsx?$/.test(e.name) && !/\.(e2e-)?spec\.ts$/.test(e.name)) {
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return newest;
}

/**
 * The benchmarks run the BUILT apps, as production does. Rebuilds when a source file is newer
 * than a bundle. Rspack emits a bundle even when the type check fails (someone's work in
 * progress); that is reported and the bundle is used.
 */
export function ensureBuilt(skip: boolean): { note: string } {
  const bundles = [API_MAIN, WORKER_MAIN];
  if (skip) {
    for (const b of bundles) if (!existsSync(b)) throw new Error(`${b} is missing: npm run build`);
    return { note: 'not rebuilt (--no-build)' };
  }
  const notes: string[] = [];
  for (const app of ['api', 'worker'] as const) {
    const bundle = app === 'api' ? API_MAIN : WORKER_MAIN;
    const newest = Math.max(
      ...[`apps/${app}/src`, 'libs', 'migrations'].map((d) => newestSource(join(ROOT, d))),
    );
    if (existsSync(bundle) && statSync(bundle).mtimeMs >= newest) continue;
    log(`building ${app} (dist is missing or older than the sources)…`);
    const started = Date.now();
    const r = spawnSync(join(ROOT, 'node_modules/.bin/nest'), ['build', app], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      const fresh = existsSync(bundle) && statSync(bundle).mtimeMs >= started - 1000;
      const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-12).join('\n');
      if (!fresh) throw new Error(`nest build ${app} failed:\n${tail}`);
      console.warn(`nest build ${app} reported errors but emitted the bundle; using it:\n${tail}`);
      notes.push(`${app} bundle emitted with build errors`);
    }
    // Rspack leaves an unchanged bundle untouched: mark it as built from these sources.
    if (existsSync(bundle)) utimesSync(bundle, new Date(), new Date());
  }
  return { note: notes.length ? notes.join('; ') : 'bundles up to date (rebuilt when stale)' };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function peakRss(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

interface SpawnOpts {
  name: string;
  args: string[];
  env: Record<string, string>;
  nodeFlags?: string[];
  /** --cpu-prof: profile directory (the child writes its .cpuprofile when it exits). */
  cpuProfDir?: string;
}

function spawnChild(o: SpawnOpts): Child {
  const prof = o.cpuProfDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${o.cpuProfDir}`,
        `--cpu-prof-name=${o.name}-${Date.now()}.cpuprofile`,
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        join(ROOT, 'bench/lib/exit-on-signal.ts'),
      ]
    : [];
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const proc = spawn(process.execPath, [...(o.nodeFlags ?? []), ...prof, ...o.args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 65_536) out = out.slice(-65_536);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    name: o.name,
    proc,
    pid: proc.pid!,
    output: () => out,
    peakRssMb: () => peakRss(proc.pid!),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitUntil(child: Child, ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.proc.exitCode !== null) {
      throw new Error(`${child.name} exited at boot:\n${child.output().slice(-4000)}`);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`${child.name} not ${what} after 60 s:\n${child.output().slice(-4000)}`);
    }
    await sleep(100);
  }
}

export async function startApi(
  env: Record<string, string>,
  cpuProfDir?: string,
  nodeFlags: string[] = [],
): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = spawnChild({
    name: 'api',
    args: [API_MAIN],
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    cpuProfDir,
    nodeFlags,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    child,
    async () => (await fetch(`${url}/health/ready`)).status === 200,
    'ready (GET /health/ready)',
  );
  return { ...child, url };
}

/** A worker process; ready when BullMQ lists one more worker on the deadlines queue. */
export async function startWorker(
  env: Record<string, string>,
  index: number,
  cpuProfDir?: string,
  nodeFlags: string[] = [],
): Promise<Child> {
  const queue = new Queue('deadlines', {
    connection: { url: env.REDIS_URL, maxRetriesPerRequest: null },
    prefix: env.QUEUE_PREFIX,
  });
  try {
    const before = await queue.getWorkersCount();
    const child = spawnChild({
      name: `worker${index}`,
      args: [WORKER_MAIN],
      env,
      cpuProfDir,
      nodeFlags,
    });
    await waitUntil(
      child,
      async () => (await queue.getWorkersCount()) > before,
      'consuming its queue',
    );
    return child;
  } finally {
    await queue.close();
  }
}

/** The bare node:http + pg floor (bench/floor/server.ts). */
export async function startFloor(env: Record<string, string>): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = spawnChild({
    name: 'floor',
    args: ['-r', 'ts-node/register/transpile-only', join(ROOT, 'bench/floor/server.ts')],
    env: { ...env, PORT: String(port) },
  });
  await waitUntil(child, async () => child.output().includes('floor listening'), 'listening');
  return { ...child, url: `http://127.0.0.1:${port}` };
}
