import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * scripts/demo.sh (`npm run demo`) signs anyone in with one click (AUTH_DEV_LOGIN=true), so it
 * must listen on loopback only (issue 11). It runs here in a throwaway checkout with stand-ins
 * for node, npm, os-packages.sh and services.sh (first on PATH / in its scripts/), so nothing is
 * installed, built or started: the stand-in `node` records the environment the API and the
 * worker are started with.
 */
const ROOT = join(__dirname, '..');
let box: string;
let checkout: string;
let calls: string;

function write(path: string, text: string, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  if (mode) chmodSync(path, mode);
}

beforeAll(() => {
  box = mkdtempSync(join(tmpdir(), 'hejie-demo-'));
  checkout = join(box, 'hejie');
  calls = join(box, 'calls');
  mkdirSync(join(checkout, 'scripts'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'demo.sh'), join(checkout, 'scripts', 'demo.sh'));
  for (const s of ['os-packages.sh', 'services.sh'])
    write(join(checkout, 'scripts', s), 'exit 0\n');
  // Installed, built, secrets generated: demo.sh goes straight to starting the processes.
  write(join(checkout, 'node_modules', '.bin', 'nest'), '', 0o755);
  for (const d of ['apps/web', 'libs', 'migrations'])
    mkdirSync(join(checkout, d), { recursive: true });
  write(join(checkout, 'dist', 'apps', 'api', 'main.js'), '');
  write(join(checkout, 'dist', 'web', 'index.html'), '');
  write(join(checkout, '.demo', 'env'), 'JWT_SECRET=x\nMETRICS_TOKEN=y\n');
  write(join(checkout, '.demo', 'trail-signing.pem'), 'pem');
  const bin = join(box, 'bin');
  // `node -p <start script>` → a command line naming the app; that command line (through
  // `exec env`) → one line in $CALLS with what the app would read; any other node call succeeds.
  write(
    join(bin, 'node'),
    `#!/usr/bin/env bash
if [[ $1 == -p ]]; then
  [[ $2 == *start:api* ]] && echo "node dist/apps/api/main.js" || echo "node dist/apps/worker/main.js"
  exit 0
fi
case $1 in dist/apps/*/main.js)
  echo "$1 HOST=\${HOST-unset} AUTH_DEV_LOGIN=\${AUTH_DEV_LOGIN-unset}" >> "$CALLS" ;;
esac
exit 0
`,
    0o755,
  );
  write(join(bin, 'npm'), '#!/usr/bin/env bash\nexit 0\n', 0o755);
});
afterAll(() => rmSync(box, { recursive: true, force: true }));

function demo(env: Record<string, string>) {
  writeFileSync(calls, '');
  const { HOST: _host, AUTH_DEV_LOGIN: _dev, ...rest } = process.env;
  const r = spawnSync('bash', [join(checkout, 'scripts', 'demo.sh')], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...rest, PATH: `${join(box, 'bin')}:${process.env.PATH}`, CALLS: calls, ...env },
  });
  const started = readFileSync(calls, 'utf8').trim().split('\n').sort();
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, started };
}

describe('scripts/demo.sh', () => {
  it('starts the API and the worker with dev login on, listening on 127.0.0.1', () => {
    const r = demo({});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.started).toEqual([
      'dist/apps/api/main.js HOST=127.0.0.1 AUTH_DEV_LOGIN=true',
      'dist/apps/worker/main.js HOST=127.0.0.1 AUTH_DEV_LOGIN=true',
    ]);
    expect(r.stdout).toContain('Hejie is running on 127.0.0.1:3000.');
  });

  it('HOST set by the user is kept (e.g. to show the demo on a LAN)', () => {
    const r = demo({ HOST: '0.0.0.0', PORT: '3100' });
    expect(r.code).toBe(0);
    expect(r.started[0]).toBe('dist/apps/api/main.js HOST=0.0.0.0 AUTH_DEV_LOGIN=true');
    expect(r.stdout).toContain('Hejie is running on 0.0.0.0:3100.');
  });
});
