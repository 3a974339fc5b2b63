import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * scripts/os-packages.sh against stand-ins for dpkg-query, apt-get and sudo (first on PATH), so
 * that it runs as any user and installs nothing: which packages it asks apt-get for, and what it
 * does when apt-get fails.
 */
const ROOT = join(__dirname, '..');
let bin: string;
let calls: string;

function stub(name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

function osPackages(args: string[], env: Record<string, string> = {}) {
  writeFileSync(calls, '');
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'os-packages.sh'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, CALLS: calls, ...env },
  });
  const apt = readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean);
  return { code: r.status, stderr: r.stderr, apt };
}

beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'hejie-os-packages-'));
  calls = join(bin, 'calls');
  // MISSING: the packages the fake dpkg database lacks; APT_FAILS=1: every apt-get fails.
  stub(
    'dpkg-query',
    'p=${!#}; [[ " $MISSING " == *" $p "* ]] && echo not-installed || echo installed',
  );
  stub('apt-get', 'echo "$DEBIAN_FRONTEND apt-get $*" >> "$CALLS"; [[ -z $APT_FAILS ]]');
  stub('sudo', '[[ $1 == -n ]] && shift; exec "$@"');
});
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe('scripts/os-packages.sh', () => {
  it('asks apt-get for nothing when everything is installed', () => {
    const r = osPackages(['test'], { MISSING: '' });
    expect(r).toEqual({ code: 0, stderr: '', apt: [] });
  });

  it('installs only the missing packages of the list, for the use asked', () => {
    const missing = { MISSING: 'chromium poppler-utils fonts-noto-cjk' };
    expect(osPackages(['test'], missing).apt).toEqual([
      'noninteractive apt-get -y -q install --no-install-recommends fonts-noto-cjk poppler-utils chromium',
    ]);
    expect(osPackages(['demo'], missing).apt).toEqual([
      'noninteractive apt-get -y -q install --no-install-recommends fonts-noto-cjk',
    ]);
    expect(osPackages(['test'], { MISSING: 'poppler-utils' }).apt).toEqual([
      'noninteractive apt-get -y -q install --no-install-recommends poppler-utils',
    ]);
  });

  it('when apt-get fails: updates, retries, then says what to install and goes on', () => {
    const r = osPackages(['test'], { MISSING: 'chromium', APT_FAILS: '1' });
    expect(r.code).toBe(0);
    expect(r.apt.map((c) => c.split(' ')[4])).toEqual(['install', 'update']);
    expect(r.stderr).toContain('install them yourself: apt-get install chromium');
  });

  it('named packages (services.ts: postgresql) must install, or it fails', () => {
    const ok = osPackages(['postgresql'], { MISSING: 'postgresql' });
    expect(ok.code).toBe(0);
    expect(ok.apt).toEqual([
      'noninteractive apt-get -y -q install --no-install-recommends postgresql',
    ]);
    const failed = osPackages(['postgresql'], { MISSING: 'postgresql', APT_FAILS: '1' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('apt-get install postgresql failed');
  });
});

describe('the browser helper', () => {
  it('only checks for Chromium, and says how to install it', () => {
    const before = process.env.CHROMIUM_PATH;
    process.env.CHROMIUM_PATH = join(bin, 'no-chromium-here'); // read when the module loads
    try {
      jest.isolateModules(() => {
        const browser = jest.requireActual<typeof import('./helpers/browser')>('./helpers/browser');
        expect(() => browser.ensureChromium()).toThrow(/bash scripts\/os-packages\.sh test/);
      });
    } finally {
      if (before === undefined) delete process.env.CHROMIUM_PATH;
      else process.env.CHROMIUM_PATH = before;
    }
  });
});
