import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..');
export const WEB_DIST = join(ROOT, 'dist', 'web');
const WEB_SRC = join(ROOT, 'apps', 'web');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian's Chromium (package `chromium`; playwright's own browser download does not work on these
 * machines). The test only checks for it: `npm test` installs it with the other OS packages
 * (scripts/os-packages.sh, listed in scripts/os-packages.txt) when it can.
 */
export function ensureChromium(): string {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed (${CHROMIUM} missing). Install it with \`bash scripts/os-packages.sh test\` ` +
        '(apt-get install chromium, as root or with sudo), or set CHROMIUM_PATH to a Chromium binary.',
    );
  // Without a Chinese font the screenshots show boxes instead of 中文.
  if (!hasChineseFont())
    console.warn(
      'no Chinese font: the screenshots will show boxes; apt-get install fonts-noto-cjk',
    );
  return CHROMIUM;
}

function hasChineseFont(): boolean {
  const r = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  return r.status !== 0 || r.stdout.trim().length > 0; // no fontconfig: nothing to check
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const p = join(dir, name);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

/**
 * Builds the dashboards into dist/web when there is no build, or the sources are newer. Two Jest
 * workers start browser suites at once (a fresh clone has no build, and no timings to order the
 * suites by): a lock directory (mkdir is atomic) makes one build while the other waits, then
 * finds the build fresh. vite empties dist/web first, so a build beside a suite serving it
 * would pull the pages from under that suite.
 */
export function ensureWebBuild(): string {
  const stale = () => {
    const index = join(WEB_DIST, 'index.html');
    return !existsSync(index) || statSync(index).mtimeMs < newestMtime(WEB_SRC);
  };
  if (!stale()) return WEB_DIST;
  withLock(join(ROOT, 'dist', '.web-build.lock'), () => {
    if (!stale()) return; // built by the other worker while this one waited
    execFileSync(
      'npx',
      ['vite', 'build', '--config', 'apps/web/vite.config.ts', '--logLevel', 'warn'],
      { cwd: ROOT, stdio: 'inherit' },
    );
  });
  return WEB_DIST;
}

/** Runs `fn` holding `dir` as a lock; a lock older than two minutes is a dead holder's. */
function withLock(dir: string, fn: () => void): void {
  mkdirSync(dirname(dir), { recursive: true });
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(dir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(dir, { recursive: true, force: true });
      else Atomics.wait(nap, 0, 0, 100); // synchronous: the callers are synchronous
    }
  }
  try {
    fn();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Headless Debian Chromium with the flags this machine's closed network needs. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
