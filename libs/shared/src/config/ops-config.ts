import type { HejieConfig } from './hejie-config';
import type { Env, Readers } from './env-readers';

export type OpsConfig = Pick<
  HejieConfig,
  | 'nodeEnv'
  | 'host'
  | 'jwtMaxAgeMs'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'metricsToken'
  | 'trustProxy'
  | 'writeRateLimit'
  | 'writeRateLimitWindowMs'
  | 'streamMaxPerCaller'
  | 'streamMaxTotal'
  | 'streamMaxBufferBytes'
  | 'streamSlowReaderGraceMs'
  | 'streamTicketTtlMs'
  | 'adminSessionTtlMs'
  | 'regulatorViewWindowMs'
>;

const IPV4_CIDR = /^(\d{1,3})(\.\d{1,3}){3}(\/\d{1,2})?$/;
const IPV6_CIDR = /^[0-9a-f:.]+(\/\d{1,3})?$/i;

/** Tokens, sessions and operations (docs/SECURITY.md). */
export function opsConfig(
  env: Env,
  r: Pick<Readers, 'str' | 'int' | 'duration' | 'bool'>,
  problems: string[],
): OpsConfig {
  const nodeEnv = r.str('NODE_ENV', 'development');
  // (AUTH_DEV_LOGIN itself is validated above; read here without reporting it twice.)
  if (nodeEnv === 'production' && ['true', '1'].includes(env.AUTH_DEV_LOGIN ?? '')) {
    problems.push('AUTH_DEV_LOGIN=true is refused when NODE_ENV=production (demo sign-in only)');
  }
  const metricsToken = env.METRICS_TOKEN || null;
  if (metricsToken !== null && Buffer.byteLength(metricsToken) < 16) {
    problems.push('METRICS_TOKEN must be at least 16 bytes (openssl rand -hex 16)');
  }
  const trustProxy = (env.TRUST_PROXY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of trustProxy) {
    // Addresses and CIDRs only: `true` or a hop count would trust any client's X-Forwarded-For.
    if (!IPV4_CIDR.test(a) && !(a.includes(':') && IPV6_CIDR.test(a))) {
      problems.push(`TRUST_PROXY must list proxy addresses or CIDRs (e.g. 10.0.0.0/8), got "${a}"`);
    }
  }
  return {
    nodeEnv,
    host: r.str('HOST', '0.0.0.0'),
    jwtMaxAgeMs: r.duration('JWT_MAX_AGE', '24h'),
    jwtIssuer: env.JWT_ISSUER || null,
    jwtAudience: env.JWT_AUDIENCE || null,
    metricsToken,
    trustProxy,
    writeRateLimit: r.int('WRITE_RATE_LIMIT', 120, 1, 1_000_000),
    writeRateLimitWindowMs: r.duration('WRITE_RATE_LIMIT_WINDOW', '1m'),
    streamMaxPerCaller: r.int('STREAM_MAX_PER_CALLER', 5, 1, 10_000),
    streamMaxTotal: r.int('STREAM_MAX_TOTAL', 1000, 1, 1_000_000),
    streamMaxBufferBytes: r.int('STREAM_MAX_BUFFER_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    streamSlowReaderGraceMs: r.duration('STREAM_SLOW_READER_GRACE', '10s'),
    streamTicketTtlMs: r.duration('STREAM_TICKET_TTL', '60s'),
    adminSessionTtlMs: r.duration('ADMIN_SESSION_TTL', '8h'),
    regulatorViewWindowMs: r.duration('REGULATOR_VIEW_WINDOW', '1h'),
  };
}
