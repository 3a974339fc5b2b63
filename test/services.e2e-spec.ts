import { execFile, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { redisProbe } from '../scripts/services';

/**
 * scripts/services.sh as a newcomer meets it: as root, with the checkout in a mode-700 directory
 * (root's home), and nothing answering on the ports of DATABASE_URL and REDIS_URL. It must make a
 * Debian cluster the postgres user can run (not a data directory inside the checkout), start
 * Redis, create the database, and the second run must take the fast path.
 */
const ROOT = join(__dirname, '..');
const isRoot = process.getuid?.() === 0;
if (!isRoot)
  console.warn(
    'test/services.e2e-spec.ts: the fresh-machine test is SKIPPED: it needs root (it runs pg_createcluster and pg_dropcluster); run it as root to check scripts/services.sh',
  );

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}
/** Runs scripts/services.sh in `cwd`, as `user` (runuser) when given. */
function services(cwd: string, env: NodeJS.ProcessEnv, user?: string): Promise<Ran> {
  const started = Date.now();
  const argv = [...(user ? ['runuser', '-u', user, '--'] : []), 'bash', 'scripts/services.sh'];
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { cwd, env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr, ms: Date.now() - started }),
    );
  });
}

function clusterPorts(): number[] {
  const r = spawnSync('pg_lsclusters', ['-h'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => Number(l.split(/\s+/)[2]));
}
/** Ports in 55000–55999 that nothing listens on and no Debian cluster is configured for. */
async function freePorts(n: number): Promise<number[]> {
  const taken = new Set(clusterPorts());
  const ports: number[] = [];
  while (ports.length < n) {
    const p = 55000 + Math.floor(Math.random() * 1000);
    if (taken.has(p) || ports.includes(p)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer()
        .once('error', () => resolve(false))
        .listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) ports.push(p);
  }
  return ports;
}

/**
 * A checkout as a newcomer has it, reduced to what services.sh needs, in `box/hejie`: the
 * scripts, package.json, tsconfig.json, and node_modules (a link to ours). Owned by `owner`.
 */
function copyCheckout(box: string, owner?: string): string {
  const checkout = join(box, 'hejie');
  mkdirSync(join(checkout, 'scripts'), { recursive: true });
  for (const f of ['services.sh', 'services.ts', 'os-packages.sh', 'os-packages.txt'])
    copyFileSync(join(ROOT, 'scripts', f), join(checkout, 'scripts', f));
  for (const f of ['package.json', 'tsconfig.json']) copyFileSync(join(ROOT, f), join(checkout, f));
  if (owner) expect(spawnSync('chown', ['-R', `${owner}:`, box]).status).toBe(0);
  symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
  return checkout;
}

/** A TCP server on a free port that answers every connection with `reply` and closes. */
async function fakeServer(reply: string): Promise<{ server: Server; port: number }> {
  const [port] = await freePorts(1);
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', () => sock.end(reply));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, port };
}

(isRoot ? describe : describe.skip)(
  'scripts/services.sh as root, checkout under a mode-700 directory, nothing on the ports',
  () => {
    let box: string;
    let checkout: string;
    let pgPort: number;
    let redisPort: number;
    let env: NodeJS.ProcessEnv;
    let portsBefore: number[];
    const copied = ['package.json', 'tsconfig.json', 'scripts', 'node_modules'];

    beforeAll(async () => {
      box = mkdtempSync(join(tmpdir(), 'hejie-services-')); // mode 700, like /root
      checkout = copyCheckout(box);
      [pgPort, redisPort] = await freePorts(2);
      // Read here, not in the test: Jest's --randomize may run the start before it.
      portsBefore = clusterPorts();
      env = {
        ...process.env,
        DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/hejie_services`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        XDG_DATA_HOME: join(box, 'data'),
        SERVICES_QUIET: '',
      };
    });

    afterAll(async () => {
      const cluster = `hejie_${pgPort}`;
      for (const line of spawnSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).stdout.split(
        '\n',
      )) {
        const [ver, name] = line.split(/\s+/);
        if (name === cluster) spawnSync('pg_dropcluster', ['--stop', ver, name]);
      }
      spawnSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave']);
      rmSync(box, { recursive: true, force: true });
    });

    it('the postgres user cannot enter the checkout (the setting of the bug)', () => {
      expect(statSync(box).mode & 0o777).toBe(0o700);
      expect(spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', box]).status).toBe(1);
      expect(portsBefore).not.toContain(pgPort);
    });

    it('starts a Debian cluster and Redis on the ports, creates the database; both answer; a second run takes the fast path', async () => {
      // Two runs at once (npm test and npm run demo): the lock lets one start, the other uses.
      const [one, two] = await Promise.all([services(checkout, env), services(checkout, env)]);
      const [r, other] = one.stdout.includes('started') ? [one, two] : [two, one];
      expect([r.code, other.code]).toEqual([0, 0]);
      expect(r.stderr + other.stderr).toMatch(
        /^(services: waiting for another run \(lock .*\)\n)?$/,
      );
      expect(r.stdout).toContain(`postgres: started 127.0.0.1:${pgPort} (new Debian cluster`);
      expect(r.stdout).toContain('; created database hejie_services)');
      expect(r.stdout).toContain(`redis: started 127.0.0.1:${redisPort} (redis-server`);
      expect(other.stdout).toBe(
        `postgres: using 127.0.0.1:${pgPort} (already running)\n` +
          `redis: using 127.0.0.1:${redisPort} (already running)\n`,
      );
      expect(r.ms).toBeLessThan(60_000);

      const pg = new Client({ connectionString: env.DATABASE_URL });
      await pg.connect();
      const { rows } = await pg.query(
        `select 1 as one, current_database() as db, current_setting('data_directory') as dir`,
      );
      await pg.end();
      expect(rows[0]).toEqual({
        one: 1,
        db: 'hejie_services',
        dir: expect.stringMatching(new RegExp(`^/var/lib/postgresql/\\d+/hejie_${pgPort}$`)),
      });
      expect(clusterPorts()).toContain(pgPort);

      const redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.config('GET', 'save')).toEqual(['save', '']);
      await redis.quit();

      // Nothing was written into the checkout; the Redis log is in XDG_DATA_HOME.
      expect(readdirSync(checkout).sort()).toEqual([...copied].sort());
      expect(readdirSync(join(box, 'data', 'hejie'))).toContain(`redis-${redisPort}.log`);

      // A second run on the same ports takes the fast path (in this test: it needs the start).
      const again = await services(checkout, env);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(
        `postgres: using 127.0.0.1:${pgPort} (already running)\n` +
          `redis: using 127.0.0.1:${redisPort} (already running)\n`,
      );
      expect(again.ms).toBeLessThan(10_000); // about 1 s; a loaded machine is slower
    }, 120_000);

    it('starts a stopped Debian cluster on the port (main after apt-get install) and lets the password-less URL in', async () => {
      // A Redis port of its own: run before the start test (--randomize), it must not start the
      // Redis that test expects to start.
      const [port, ownRedis] = await freePorts(2);
      const name = `svc_${port}`;
      const made = spawnSync('pg_createcluster', ['-p', String(port), pgVersion(), name]);
      expect(made.status).toBe(0);
      try {
        const hba = `/etc/postgresql/${pgVersion()}/${name}/pg_hba.conf`;
        expect(readFileSync(hba, 'utf8')).toMatch(
          /^host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256/m,
        );
        const url = `postgres://postgres@127.0.0.1:${port}/hejie_services`;
        const r = await services(checkout, {
          ...env,
          DATABASE_URL: url,
          REDIS_URL: `redis://127.0.0.1:${ownRedis}`,
        });
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(
          `postgres: started 127.0.0.1:${port} (Debian cluster ${pgVersion()}/${name}; postgres trusted from localhost in ${hba}; created database hejie_services)`,
        );
        const pg = new Client({ connectionString: url });
        await pg.connect();
        expect((await pg.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
        await pg.end();
        expect(readFileSync(hba, 'utf8').split('\n').slice(0, 3)).toEqual([
          '# added by hejie scripts/services.ts: the password-less DATABASE_URL',
          'host all "postgres" 127.0.0.0/8 trust',
          'host all "postgres" ::1/128 trust',
        ]);
      } finally {
        spawnSync('pg_dropcluster', ['--stop', pgVersion(), name]);
        spawnSync('redis-cli', ['-p', String(ownRedis), 'shutdown', 'nosave']);
      }
    }, 90_000);
  },
);

function pgVersion(): string {
  return readdirSync('/usr/lib/postgresql').sort((x, y) => Number(y) - Number(x))[0];
}

// The user's copy links to our node_modules, which nobody cannot read when the checkout itself is
// in root's home (the README's fresh machine): then this part is skipped.
const PG_PKG = join(ROOT, 'node_modules', 'pg', 'package.json');
const nobodyCanRun =
  isRoot && spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', PG_PKG]).status === 0;
if (isRoot && !nobodyCanRun)
  console.warn(
    `test/services.e2e-spec.ts: the test as a user without root is SKIPPED: user nobody cannot read ${PG_PKG}`,
  );

(nobodyCanRun ? describe : describe.skip)(
  'scripts/services.sh as a user without root or sudo (nobody), nothing on the ports',
  () => {
    let box: string;
    let checkout: string;
    let pgPort: number;
    let redisPort: number;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      box = mkdtempSync(join(tmpdir(), 'hejie-services-user-'));
      checkout = copyCheckout(box, 'nobody');
      [pgPort, redisPort] = await freePorts(2);
      env = {
        ...process.env,
        HOME: box,
        XDG_DATA_HOME: join(box, 'data'),
        DATABASE_URL: `postgres://hejie_app@127.0.0.1:${pgPort}/hejie_services`,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      };
    });

    afterAll(() => {
      const dir = join(box, 'data', 'hejie', `pg-${pgPort}`);
      if (existsSync(join(dir, 'PG_VERSION'))) {
        const ver = readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim();
        const pgCtl = `/usr/lib/postgresql/${ver}/bin/pg_ctl`;
        spawnSync('runuser', ['-u', 'nobody', '--', pgCtl, '-D', dir, '-m', 'fast', 'stop']);
      }
      spawnSync('redis-cli', ['-p', String(redisPort), 'shutdown', 'nosave']);
      rmSync(box, { recursive: true, force: true });
    });

    it("runs its own cluster in XDG_DATA_HOME, owned by the user, with the URL's role", async () => {
      const r = await services(checkout, env, 'nobody');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const dir = join(box, 'data', 'hejie', `pg-${pgPort}`);
      expect(r.stdout).toContain(`postgres: started 127.0.0.1:${pgPort} (private cluster ${dir},`);
      expect(r.stdout).toContain(`redis: started 127.0.0.1:${redisPort} (redis-server`);

      const pg = new Client({ connectionString: env.DATABASE_URL });
      await pg.connect();
      const { rows } = await pg.query(
        `select current_user as "user", current_setting('data_directory') as dir`,
      );
      await pg.end();
      expect(rows[0]).toEqual({ user: 'hejie_app', dir });
      const nobody = Number(spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).stdout);
      expect(statSync(dir).uid).toBe(nobody);
      const redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 1 });
      expect(await redis.ping()).toBe('PONG');
      await redis.quit();
    }, 90_000);
  },
);

describe('scripts/services.sh refuses what it must not touch', () => {
  it('a local port held by something that is not PostgreSQL: fails, starts nothing', async () => {
    const { server, port } = await fakeServer('HTTP/1.1 400 Bad Request\r\n\r\n');
    try {
      const r = await services(ROOT, {
        ...process.env,
        DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/hejie`,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `postgres: 127.0.0.1:${port} is in use by something that is not postgres`,
      );
      expect(clusterPorts()).not.toContain(port);
    } finally {
      server.close();
    }
  }, 30_000);

  it('a host that is not local and does not answer: waits SERVICES_WAIT_SECS, starts nothing', async () => {
    const r = await services(ROOT, {
      ...process.env,
      REDIS_URL: 'redis://redis.hejie.invalid:6379',
      SERVICES_WAIT_SECS: '1',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'redis: redis.hejie.invalid:6379 (from REDIS_URL) does not answer (down) after 1 s; it is not local, so not starting one',
    );
  }, 30_000);

  it('tells a Redis that is loading or refuses the password from one that is down', async () => {
    const loading = await fakeServer('-LOADING Redis is loading the dataset in memory\r\n');
    const refusing = await fakeServer('-WRONGPASS invalid username-password pair\r\n');
    try {
      expect(await redisProbe(new URL(`redis://127.0.0.1:${loading.port}`))).toBe('starting');
      expect(await redisProbe(new URL(`redis://:x@127.0.0.1:${refusing.port}`))).toBe('auth');
      const [free] = await freePorts(1);
      expect(await redisProbe(new URL(`redis://127.0.0.1:${free}`))).toBe('down');
    } finally {
      loading.server.close();
      refusing.server.close();
    }
  });
});
