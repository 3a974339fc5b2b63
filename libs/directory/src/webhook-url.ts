import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { DomainError } from '@app/shared';

/**
 * Where merchants' webhooks may go (API.md, Directory): `https://` to public unicast addresses
 * only. A loopback, private, link-local (169.254.169.254, the cloud metadata service), CGNAT
 * (100.100.100.200, Alibaba Cloud's), unique-local, multicast, reserved, unspecified or
 * translation address (NAT64, 6to4, Teredo: each can lead back to an IPv4 one) is refused, as is
 * an IPv4-mapped IPv6 address of any of those. Checked when the URL is set (here) and again at
 * each delivery, on the address actually dialled (webhooks/webhook-http.ts).
 * `WEBHOOK_ALLOW_PRIVATE=true` (development and tests) lifts the address rule and allows http://.
 */
export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Every address of a host name (A and AAAA), as the system resolver gives them. */
export type WebhookResolver = (hostname: string) => Promise<ResolvedAddress[]>;
export const WEBHOOK_RESOLVER = Symbol('WEBHOOK_RESOLVER');

export const systemResolver: WebhookResolver = (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

/** The range an address is in when webhooks may not go there; null for a public unicast one. */
export function forbiddenRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  let ip: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  const range = ip.range();
  return range === 'unicast' ? null : range;
}

/** The URL's host without IPv6 brackets. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

function forbidden(detail: string): DomainError {
  return new DomainError('WEBHOOK_URL_FORBIDDEN', detail, {}, [
    { field: 'webhookUrl', message: detail },
  ]);
}

/**
 * Throws 422 WEBHOOK_URL_FORBIDDEN unless `raw` may receive webhooks now. A name that does not
 * resolve is refused too (nothing could be checked); every address it resolves to must be public.
 */
export async function assertWebhookUrlAllowed(
  raw: string,
  opts: { allowPrivate: boolean; resolve: WebhookResolver },
): Promise<void> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw forbidden('webhookUrl is not a URL');
  }
  const schemes = opts.allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) throw forbidden('webhookUrl must be an https:// URL');
  if (url.username || url.password) throw forbidden('webhookUrl may not carry credentials');
  if (opts.allowPrivate) return;
  const host = urlHost(url);
  if (ipaddr.isValid(host)) {
    const range = forbiddenRange(host);
    if (range) throw forbidden(`webhookUrl points to a ${range} address`);
    return;
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await opts.resolve(host);
  } catch {
    throw forbidden(`webhookUrl's host ${host} does not resolve`);
  }
  if (!addresses.length) throw forbidden(`webhookUrl's host ${host} does not resolve`);
  for (const a of addresses) {
    const range = forbiddenRange(a.address);
    if (range) throw forbidden(`webhookUrl's host ${host} resolves to a ${range} address`);
  }
}
