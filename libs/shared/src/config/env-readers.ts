import { parseDuration } from '../duration';

export type Env = Record<string, string | undefined>;

/** PEM values often arrive through env files with literal "\n"; accept both forms. */
export function pem(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return null;
  return value.replace(/\\n/g, '\n');
}

/** `host:port,host:port` → nodes; absent → null (a single Redis). */
export function clusterNodes(
  raw: string | undefined,
  problems: string[],
): { host: string; port: number }[] | null {
  if (raw === undefined || raw.trim() === '') return null;
  const nodes = raw.split(',').map((n) => {
    const m = /^\s*([^\s:]+):(\d{1,5})\s*$/.exec(n);
    if (!m || Number(m[2]) > 65535) problems.push(`REDIS_CLUSTER_NODES: "${n}" is not host:port`);
    return { host: m?.[1] ?? '', port: Number(m?.[2] ?? 0) };
  });
  return nodes;
}

/** Readers of environment variables: each reports a bad value into `problems` and goes on. */
export interface Readers {
  str(name: string, def?: string): string;
  int(name: string, def: number, min: number, max: number): number;
  duration(name: string, def: string): number;
  bool(name: string, def: boolean): boolean;
  url(name: string, def: string, protocols: string[]): string;
  queueList(name: string): string[] | null;
}

export function envReaders(env: Env, problems: string[]): Readers {
  const str = (name: string, def?: string): string => {
    const v = env[name];
    if (v === undefined || v === '') {
      if (def === undefined) {
        problems.push(`${name} is required`);
        return '';
      }
      return def;
    }
    return v;
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return def;
    }
    return Number(raw);
  };
  const duration = (name: string, def: string): number => {
    const raw = env[name] ?? def;
    try {
      return parseDuration(raw);
    } catch {
      problems.push(`${name} must be a duration like 90s, 15m, 96h or 7d, got "${raw}"`);
      return 0;
    }
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return def;
  };
  const url = (name: string, def: string, protocols: string[]): string => {
    const raw = str(name, def);
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error();
    } catch {
      problems.push(`${name} must be a ${protocols.join(' or ')} URL, got "${raw}"`);
    }
    return raw;
  };

  const queueList = (name: string): string[] | null => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return null;
    const names = raw.split(',').map((s) => s.trim());
    if (names.some((n) => !/^[a-z][a-z0-9_-]*$/.test(n))) {
      problems.push(`${name} must be a comma-separated list of queue names, got "${raw}"`);
      return null;
    }
    return [...new Set(names)];
  };
  return { str, int, duration, bool, url, queueList };
}
