import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * A real worker process (apps/worker/src/main.ts through ts-node), as `npm run start:worker`
 * runs it, with the test run's database and queue prefix plus `env`.
 */
export async function spawnWorker(env: Record<string, string>): Promise<{
  proc: ChildProcess;
  log: () => string;
  stop: () => Promise<{ code: number | null; signal: string | null; graceful: boolean }>;
}> {
  let out = '';
  const proc = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/worker/src/main.ts',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: 'info',
        ...env,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // Generous: ts-node compiles the worker at boot, slow on a loaded 2-CPU machine.
  const deadline = Date.now() + 90_000;
  while (!out.includes('worker started')) {
    if (proc.exitCode !== null) throw new Error(`worker exited at boot:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL'); // a worker that never booted must not keep Jest alive
      throw new Error(`worker did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    proc,
    log: () => out,
    // Nest closes the app on SIGTERM, then re-raises the signal: graceful = it logged its stop.
    stop: () =>
      new Promise((resolve) => {
        const done = (code: number | null, signal: string | null) =>
          resolve({ code, signal, graceful: out.includes('worker stopped') });
        if (proc.exitCode !== null || proc.signalCode !== null)
          return done(proc.exitCode, proc.signalCode);
        proc.once('exit', done);
        proc.kill('SIGTERM');
      }),
  };
}

export async function waitFor<T>(
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  stepMs = 200,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let v = await probe();
  while (!ok(v)) {
    if (Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, stepMs));
    v = await probe();
  }
  return v;
}
