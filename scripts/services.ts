/**
 * Makes sure the PostgreSQL in DATABASE_URL and the Redis in REDIS_URL answer, starting (and when
 * need be installing) local ones. Run through scripts/services.sh by `npm test` and `npm run demo`;
 * the README ("Services") says where the files go and how to remove them.
 *
 * For each service:
 *  1. It answers: use it (the fast path, one line). Then the URL's database is created if missing.
 *  2. It does not answer and its host is not local: wait SERVICES_WAIT_SECS (30) for it, then fail.
 *  3. Its host is local (localhost, 127.x, ::1): start one, one run at a time (a lock file):
 *     - PostgreSQL, as root or with sudo: the Debian cluster on that port (pg_lsclusters), else a
 *       new one, `pg_createcluster <ver> hejie_<port> -p <port>` (data in /var/lib/postgresql,
 *       owned by postgres, so it works whoever owns the checkout); the postgresql package is
 *       installed first when there is no server. When the URL's user is refused by a cluster this
 *       run started, the role is created and given the URL's password, or (no password) trusted
 *       from localhost in that cluster's pg_hba.conf. A running cluster is never reconfigured.
 *     - PostgreSQL, without root or sudo: a private cluster of this user (initdb, trust, pg_ctl)
 *       in $XDG_DATA_HOME/hejie/pg-<port> (default ~/.local/share/hejie/pg-<port>).
 *     - Redis: `redis-server --daemonize yes` on that port, nothing saved to disk, log in
 *       $XDG_DATA_HOME/hejie/redis-<port>.log; the redis-server package is installed if missing.
 *  4. The port is held by something else (after 5 s of grace for a proxy): fail, naming it.
 * Prints one line per service (SERVICES_QUIET=1: nothing unless it fails); exits 1 with the reason.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';

export type State = 'ready' | 'starting' | 'down' | 'foreign' | 'auth';

const WAIT_SECS = Number(process.env.SERVICES_WAIT_SECS || 30);
const SCRIPTS = __dirname;
/** Where this user's private cluster and Redis log go: never the checkout (see the README). */
const dataDir = (): string =>
  join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'hejie');

class Failure extends Error {}
function fail(message: string): never {
  throw new Failure(message);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const decode = (s: string) => decodeURIComponent(s);
const tail = (text: string) => text.trim().split('\n').slice(-15).join('\n');

// ------------------------------------------------------------------ hosts, commands

/** The URL's host without IPv6 brackets. */
const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '') || 'localhost';
const isLocal = (host: string): boolean =>
  host === 'localhost' || host === '::1' || /^127\./.test(host);
const shown = (url: URL, port: number) => `${url.hostname || 'localhost'}:${port}`;

/**
 * Runs a command from / (other users may not enter the checkout). Its output goes to a file, not
 * a pipe, so that a daemon it leaves behind cannot keep us waiting.
 */
let outDir = '';
function run(argv: string[]): { ok: boolean; out: string } {
  if (!outDir) {
    outDir = mkdtempSync(join(tmpdir(), 'hejie-services-')); // ours alone, mode 700
    process.on('exit', () => rmSync(outDir, { recursive: true, force: true }));
  }
  const file = join(outDir, 'out');
  const fd = openSync(file, 'w');
  try {
    const r = spawnSync(argv[0], argv.slice(1), {
      cwd: '/',
      stdio: ['ignore', fd, fd],
      // pg_createcluster refuses an environment locale that is not installed (ssh forwards them).
      env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
    });
    const out = readFileSync(file, 'utf8').trim() + (r.error ? ` ${r.error.message}` : '');
    return { ok: r.status === 0, out };
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}
const which = (cmd: string) => run(['sh', '-c', 'command -v "$0"', cmd]).ok;

let sudoPrefix: string[] | null | undefined;
/** How to run as root: [] when root; sudo when it needs no password or can ask on a terminal. */
function rootPrefix(): string[] | null {
  if (sudoPrefix !== undefined) return sudoPrefix;
  if (process.getuid?.() === 0) sudoPrefix = [];
  else if (which('sudo') && run(['sudo', '-n', 'true']).ok) sudoPrefix = ['sudo', '-n'];
  else sudoPrefix = process.stdin.isTTY && which('sudo') ? ['sudo'] : null;
  return sudoPrefix;
}
const asRoot = (argv: string[]) => run([...(rootPrefix() ?? []), ...argv]);
const asPostgres = (argv: string[]) =>
  run(
    rootPrefix()?.length
      ? [...rootPrefix()!, '-u', 'postgres', ...argv]
      : ['runuser', '-u', 'postgres', '--', ...argv],
  );

/** apt-get install through scripts/os-packages.sh (the one place that runs apt-get). */
function install(pkg: string): void {
  const r = spawnSync('bash', [join(SCRIPTS, 'os-packages.sh'), pkg], { stdio: 'inherit' });
  if (r.status !== 0) fail(`${pkg} is not installed and could not be installed (see above)`);
}

/** One slow path at a time (test.sh and demo.sh at once): a file with our pid, in $TMPDIR. */
let locked = false;
async function lock(): Promise<void> {
  if (locked) return;
  const file = join(tmpdir(), `hejie-services.${process.getuid?.() ?? 0}.lock`);
  for (let waited = 0; ; waited += 250) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      locked = true;
      process.on('exit', () => rmSync(file, { force: true }));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!lockHeld(file)) {
      rmSync(file, { force: true });
      continue;
    }
    if (waited === 0) console.error(`services: waiting for another run (lock ${file})`);
    if (waited > 300_000) fail(`could not get the lock ${file} in 300 s`);
    await sleep(250);
  }
}
function lockHeld(file: string): boolean {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    if (!pid) return Date.now() - statSync(file).mtimeMs < 5000; // being written
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

const GONE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Polls a probe until it says ready (or auth), `stop` says give up, or `secs` have passed. */
async function waitFor(probe: () => Promise<State>, secs: number, stop = () => false) {
  const deadline = Date.now() + secs * 1000;
  for (;;) {
    const state = await probe();
    if (state === 'ready' || state === 'auth' || Date.now() >= deadline || stop()) return state;
    await sleep(250);
  }
}

function whoListens(port: number): string {
  const r = run(['ss', '-Hltnp', `sport = :${port}`]);
  return r.ok ? (/users:.*/.exec(r.out)?.[0] ?? '') : '';
}

// ------------------------------------------------------------------ the common path

interface Service {
  name: 'postgres' | 'redis';
  variable: 'DATABASE_URL' | 'REDIS_URL';
  url: URL;
  port: number;
  probe(): Promise<State>;
  /** Starts a local server on a free port: what it did ("started"), and how ("redis-server …"). */
  start(): Promise<[string, string]>;
  /** Once it answers: what else was done (" ; created database x") or "". */
  prepare(): Promise<string>;
}

export async function ensure(s: Service): Promise<string> {
  const where = shown(s.url, s.port);
  const refused = () =>
    fail(`${s.name}: ${where} answers but refuses the credentials in ${s.variable}`);
  let state = await s.probe();
  if (state === 'auth') refused();
  if (state === 'ready') return `${s.name}: using ${where} (already running${await s.prepare()})`;
  if (!isLocal(hostOf(s.url))) {
    state = await waitFor(s.probe, WAIT_SECS);
    if (state !== 'ready')
      fail(
        `${s.name}: ${where} (from ${s.variable}) does not answer (${state}) after ${WAIT_SECS} s; it is not local, so not starting one`,
      );
    return `${s.name}: using ${where} (answered after waiting${await s.prepare()})`;
  }
  await lock();
  state = await s.probe(); // another run may have started it meanwhile
  if (state === 'foreign') state = await waitFor(s.probe, 5); // a proxy before a starting server
  if (state === 'foreign')
    fail(
      `${s.name}: ${where} is in use by something that is not ${s.name} ${whoListens(s.port)}; free the port or change ${s.variable}`,
    );
  const [did, how] = state === 'down' ? await s.start() : ['using', 'already running'];
  state = await waitFor(s.probe, WAIT_SECS);
  if (state === 'auth') refused();
  if (state !== 'ready')
    fail(`${s.name}: ${did} (${how}) but ${where} does not answer after ${WAIT_SECS} s (${state})`);
  return `${s.name}: ${did} ${where} (${how}${await s.prepare()})`;
}

// ------------------------------------------------------------------ PostgreSQL

const withDb = (url: URL, db: string) => {
  const u = new URL(url.toString());
  u.pathname = `/${encodeURIComponent(db)}`;
  return u.toString();
};
const pgUser = (url: URL) => decode(url.username) || 'postgres';

type PgError = Error & { code?: string };
/** Runs `sql` in database `db` as the URL's user; the error, or null. */
async function pgTry(url: URL, db: string, sql: string): Promise<PgError | null> {
  const c = new Client({ connectionString: withDb(url, db), connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(sql);
    return null;
  } catch (e) {
    return e as PgError;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function pgProbe(url: URL): Promise<State> {
  const e = await pgTry(url, 'postgres', 'select 1');
  if (!e) return 'ready';
  const code = e.code ?? '';
  if (code === '57P03') return 'starting';
  // Any other SQLSTATE, or a password the URL lacks, is PostgreSQL answering: prepare() says why.
  if (/^[0-9A-Z]{5}$/.test(code) || /SASL|password/.test(e.message)) return 'ready';
  return GONE.has(code) ? 'down' : 'foreign';
}

/** Installed server versions, newest first (Debian layout). */
function pgVersions(): string[] {
  const base = '/usr/lib/postgresql';
  const all = existsSync(base) ? readdirSync(base) : [];
  const server = (v: string) =>
    ['initdb', 'pg_ctl'].every((p) => existsSync(`${base}/${v}/bin/${p}`));
  return all.filter(server).sort((a, b) => Number(b) - Number(a));
}

interface Cluster {
  ver: string;
  name: string;
  port: number;
  online: boolean;
}
function debianClusters(): Cluster[] {
  const r = run(['pg_lsclusters', '-h']);
  if (!r.ok) return [];
  return r.out
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => l.split(/\s+/))
    .map(([ver, name, port, status]) => ({ ver, name, port: +port, online: status !== 'down' }));
}

async function pgStart(url: URL, port: number): Promise<[string, string]> {
  if (!rootPrefix()) return pgStartPrivate(url, port);
  let installed = '';
  let cluster = debianClusters().find((c) => c.port === port);
  if (!cluster && !pgVersions().length) {
    install('postgresql');
    installed = 'installed postgresql, ';
    cluster = debianClusters().find((c) => c.port === port); // the package made "main" on 5432
  }
  let what: string;
  if (!cluster) {
    const ver = pgVersions()[0] ?? fail('postgres: no server programs in /usr/lib/postgresql');
    const name = `hejie_${port}`;
    // Its listen_addresses is localhost (127.0.0.1 and ::1); its data is owned by postgres.
    const r = asRoot(['pg_createcluster', '--locale', 'C.UTF-8', '-p', String(port), ver, name]);
    if (!r.ok) fail(`postgres: pg_createcluster ${ver} ${name} -p ${port} failed:\n${tail(r.out)}`);
    cluster = { ver, name, port, online: false };
    what = `new Debian cluster ${ver}/${name}, data in /var/lib/postgresql/${ver}/${name}`;
  } else what = `Debian cluster ${cluster.ver}/${cluster.name}`;
  if (!cluster.online) {
    const r = asRoot(['pg_ctlcluster', cluster.ver, cluster.name, 'start']);
    if (!r.ok)
      fail(`postgres: pg_ctlcluster ${cluster.ver} ${cluster.name} start failed:\n${tail(r.out)}`);
  }
  if ((await waitFor(() => pgProbe(url), WAIT_SECS)) !== 'ready')
    fail(`postgres: started ${what} but ${shown(url, port)} does not answer after ${WAIT_SECS} s`);
  return [`${installed}started`, `${what}${await pgLetIn(url, cluster)}`];
}

/**
 * Debian's defaults (peer on the socket, scram over TCP) refuse the password-less default URL.
 * In a cluster this run started: create the URL's role (as postgres, over the socket), then give
 * it the URL's password, or trust it from localhost at the top of the cluster's pg_hba.conf.
 */
async function pgLetIn(url: URL, c: Cluster): Promise<string> {
  if (!(await pgTry(url, 'postgres', 'select 1'))) return '';
  const user = pgUser(url);
  const password = decode(url.password);
  const role = escapeIdentifier(user);
  const sql =
    `do $$ begin if not exists (select from pg_roles where rolname = ${escapeLiteral(user)}) ` +
    `then create role ${role} login superuser; end if; end $$;` +
    (password ? `alter role ${role} password ${escapeLiteral(password)};` : '');
  const r = asPostgres(['psql', '-X', '-q', '-p', String(c.port), '-d', 'postgres', '-c', sql]);
  if (!r.ok)
    fail(`postgres: could not create role ${user} in cluster ${c.ver}/${c.name}: ${r.out}`);
  let done = `; role ${user} with the URL's password`;
  if (!password) {
    const hba = `/etc/postgresql/${c.ver}/${c.name}/pg_hba.conf`;
    const lines = [`host all ${role} 127.0.0.0/8 trust`, `host all ${role} ::1/128 trust`];
    // GNU sed turns each "\\n" in the text of `1i` into a new line.
    const text = ['# added by hejie scripts/services.ts: the password-less DATABASE_URL', ...lines];
    if (
      !asRoot(['grep', '-qxF', lines[0], hba]).ok &&
      !asRoot(['sed', '-i', `1i ${text.join('\\n')}`, hba]).ok
    )
      fail(`postgres: could not edit ${hba}`);
    asRoot(['pg_ctlcluster', c.ver, c.name, 'reload']);
    done = `; ${user} trusted from localhost in ${hba}`;
  }
  for (let i = 0; (await pgTry(url, 'postgres', 'select 1')) && i < 20; i++) await sleep(250);
  return done;
}

/** Without root: this user's own cluster, outside the checkout. Needs the server programs. */
async function pgStartPrivate(url: URL, port: number): Promise<[string, string]> {
  const dir = join(dataDir(), `pg-${port}`);
  const log = `${dir}.log`;
  const made = existsSync(join(dir, 'PG_VERSION'));
  const ver = made ? readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim() : pgVersions()[0];
  const bin = `/usr/lib/postgresql/${ver}/bin`;
  if (!ver || !existsSync(`${bin}/pg_ctl`))
    fail(
      `postgres: ${shown(url, port)} does not answer and PostgreSQL ${ver ?? ''} is not installed; without root or sudo it cannot be installed: apt-get install postgresql, or point DATABASE_URL at a server`,
    );
  mkdirSync(dataDir(), { recursive: true, mode: 0o700 });
  if (!made) {
    const init = [`${bin}/initdb`, '-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'];
    const r = run([...init, '--locale=C', '--no-sync']);
    if (!r.ok) fail(`postgres: initdb ${dir} failed:\n${tail(r.out)}`);
  }
  const opts = ['-o', `-p ${port} -k /tmp`, '-l', log, '-w', '-t', String(WAIT_SECS)];
  const r = run([`${bin}/pg_ctl`, '-D', dir, ...opts, 'start']);
  if (!r.ok)
    fail(`postgres: pg_ctl start ${dir} failed (log ${log}):\n${tail(readFileSync(log, 'utf8'))}`);
  const user = pgUser(url);
  if (user !== 'postgres') {
    const admin = new URL(url.toString());
    admin.username = 'postgres';
    admin.password = '';
    const sql = `create role ${escapeIdentifier(user)} login superuser`;
    const e = await pgTry(admin, 'postgres', sql);
    if (e && e.code !== '42710') fail(`postgres: could not create role ${user}: ${e.message}`);
  }
  return ['started', `private cluster ${dir}, log ${log}`];
}

/** Creates the URL's database when it does not exist. */
async function pgPrepare(url: URL, port: number): Promise<string> {
  const db = decode(url.pathname.slice(1));
  if (!db) return '';
  const e = await pgTry(url, db, 'select 1');
  if (!e) return '';
  if (e.code !== '3D000') {
    const hint = /password|SASL|pg_hba|28P01|28000/.test(`${e.message} ${e.code}`)
      ? ` (put the password in DATABASE_URL, or allow ${pgUser(url)} in that server's pg_hba.conf)`
      : '';
    fail(
      `postgres: ${shown(url, port)} answers but connecting as ${pgUser(url)} to ${db} fails: ${e.message}${hint}`,
    );
  }
  const c = await pgTry(url, 'postgres', `create database ${escapeIdentifier(db)}`);
  if (c && c.code !== '42P04')
    fail(`postgres: database ${db} does not exist and creating it failed: ${c.message}`);
  return `; created database ${db}`;
}

// ------------------------------------------------------------------ Redis

/** PING (after AUTH when the URL has a password) in RESP over a socket, TLS for rediss:. */
export function redisProbe(url: URL): Promise<State> {
  const host = hostOf(url);
  const port = Number(url.port || 6379);
  const tls = url.protocol === 'rediss:';
  const resp = (args: string[]) =>
    `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  const cmds = url.password
    ? [resp(['AUTH', ...(url.username ? [decode(url.username)] : []), decode(url.password)])]
    : [];
  cmds.push(resp(['PING']));
  return new Promise((resolve) => {
    const sock = tls
      ? tlsConnect({ host, port, servername: host, rejectUnauthorized: false })
      : tcpConnect({ host, port });
    let buf = '';
    const done = (s: State) => {
      sock.destroy();
      resolve(s);
    };
    sock.setTimeout(3000, () => done('foreign'));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      done(GONE.has(e.code ?? '') ? 'down' : 'foreign'),
    );
    sock.on('close', () => done('foreign'));
    sock.on(tls ? 'secureConnect' : 'connect', () => sock.write(cmds.join('')));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const replies = buf.split('\r\n');
      const bad = replies.slice(0, -1).find((l) => !l.startsWith('+'));
      if (bad) {
        if (bad.startsWith('-LOADING')) return done('starting');
        return done(/^-(NOAUTH|WRONGPASS|ERR.*(AUTH|password))/i.test(bad) ? 'auth' : 'foreign');
      }
      if (replies.length > cmds.length)
        done(replies[cmds.length - 1] === '+PONG' ? 'ready' : 'foreign');
    });
  });
}

async function redisStart(url: URL, port: number): Promise<[string, string]> {
  let installed = '';
  if (!which('redis-server')) {
    install('redis-server');
    installed = 'installed redis-server, ';
    if ((await redisProbe(url)) !== 'down') return ['installed and started', 'by the package'];
  }
  const dir = dataDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, `redis-${port}.log`);
  writeFileSync(log, '');
  const host = hostOf(url);
  const bind = host === 'localhost' ? ['127.0.0.1', '-::1'] : [host]; // "-": if it has IPv6
  const args = ['--daemonize', 'yes', '--bind', ...bind, '--port', String(port), '--save', ''];
  args.push('--appendonly', 'no', '--dir', dir, '--logfile', log);
  args.push('--pidfile', join(dir, `redis-${port}.pid`));
  if (url.password) args.push('--requirepass', decode(url.password));
  const r = run(['redis-server', ...args]);
  const died = () => /aborting|Fatal|FATAL|Bad directive/.test(readFileSync(log, 'utf8'));
  // It daemonizes before it binds: its exit status tells little, its log tells more.
  if (!r.ok || (await waitFor(() => redisProbe(url), WAIT_SECS, died)) !== 'ready')
    fail(
      `redis: redis-server on port ${port} did not start (log ${log}):\n${tail(`${r.out}\n${readFileSync(log, 'utf8')}`)}`,
    );
  return [`${installed}started`, `redis-server, nothing saved, log ${log}`];
}

// ------------------------------------------------------------------ main

function services(env: NodeJS.ProcessEnv): Service[] {
  const db = new URL(env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/hejie');
  const redis = new URL(env.REDIS_URL || 'redis://127.0.0.1:6379');
  const [dbPort, redisPort] = [Number(db.port || 5432), Number(redis.port || 6379)];
  return [
    {
      ...{ name: 'postgres', variable: 'DATABASE_URL', url: db, port: dbPort },
      probe: () => pgProbe(db),
      start: () => pgStart(db, dbPort),
      prepare: () => pgPrepare(db, dbPort),
    },
    {
      ...{ name: 'redis', variable: 'REDIS_URL', url: redis, port: redisPort },
      probe: () => redisProbe(redis),
      start: () => redisStart(redis, redisPort),
      prepare: async () => '',
    },
  ];
}

async function main(): Promise<void> {
  try {
    for (const s of services(process.env)) {
      const line = await ensure(s);
      if (process.env.SERVICES_QUIET !== '1') console.log(line);
    }
  } catch (e) {
    console.error(`services: ${e instanceof Failure ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
