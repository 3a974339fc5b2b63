/**
 * Canonical JSON for the event trail: RFC 8785 (JSON Canonicalization Scheme) over the values
 * events carry, implemented here because no JCS package is a dependency of this repo (the
 * installed `fast-json-stable-stringify` / `safe-stable-stringify` sort keys but are not JCS:
 * neither refuses lone surrogates or NaN, and they are only transitive dependencies).
 *
 * - Object keys sorted by UTF-16 code units (JS's default string order, as RFC 8785 §3.2.3),
 *   recursively; no whitespace.
 * - Strings and numbers serialised as ECMAScript JSON.stringify does (RFC 8785 §3.2.2.2/3).
 *   Non-finite numbers, and strings with lone surrogates (which would not survive UTF-8 and
 *   PostgreSQL), are refused.
 * - Beyond RFC 8785, to equal what is read back from a jsonb column: a Date becomes its ISO
 *   string, an `undefined` property is dropped and an `undefined` array element becomes null,
 *   exactly like JSON.stringify. So canonicalJson(x) === canonicalJson(JSON.parse(JSON.stringify(x))).
 * - Anything else (bigint, function, symbol, Map, Buffer, class instances) is refused with the
 *   path of the offending value, rather than serialised in some lossy way.
 */
export function canonicalJson(value: unknown): string {
  const out = serialise(value, '$');
  if (out === undefined) throw new TypeError('canonicalJson: undefined at $ has no JSON form');
  return out;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

function serialiseString(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) {
    throw new TypeError(`canonicalJson: lone UTF-16 surrogate in the string at ${path}`);
  }
  return JSON.stringify(s);
}

function serialise(value: unknown, path: string): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`canonicalJson: ${value} at ${path} has no JSON form`);
      }
      return JSON.stringify(value);
    case 'string':
      return serialiseString(value, path);
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: unsupported ${typeof value} at ${path}`);
  }

  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new TypeError(`canonicalJson: invalid Date at ${path}`);
    }
    return JSON.stringify(value.toISOString());
  }
  if (Array.isArray(value)) {
    const items = value.map((item, i) => serialise(item, `${path}[${i}]`) ?? 'null');
    return `[${items.join(',')}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as object).constructor?.name ?? 'object';
    throw new TypeError(`canonicalJson: unsupported ${name} at ${path}`);
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = serialise(record[key], `${path}.${key}`);
    if (member !== undefined) members.push(`${serialiseString(key, path)}:${member}`);
  }
  return `{${members.join(',')}}`;
}
