import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Calls the tool makes to URLs an LMS (or whoever holds a registration link) names: the openid-configuration and
 * the registration endpoint of dynamic registration. Those URLs are attacker-controlled, so each call is checked
 * where it connects, not where it was written: the address DNS gives is the one checked and the one used (no
 * second lookup to rebind), redirects are not followed, the answer is bounded in size and time.
 */
export interface OutboundPolicy {
  /** Refuse http:// everywhere (production); otherwise http:// is allowed to loopback hosts only (the dev LMS). */
  requireHttps: boolean;
  /** Allow 127.0.0.0/8 and ::1 (development: the dev LMS runs on loopback). */
  allowLoopback: boolean;
  /** Allow RFC 1918, CGNAT and unique-local addresses (an LMS on the campus network). */
  allowPrivate: boolean;
}

/** Why an outbound call was not made or failed; the message is for logs, never for the person asking. */
export class OutboundError extends Error {
  constructor(
    message: string,
    readonly reason: 'refused_url' | 'refused_address' | 'network' | 'status' | 'too_large' | 'not_json',
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

// Never reachable whatever the policy: link-local (cloud metadata at 169.254.169.254), "this network",
// multicast, reserved and documentation ranges.
const ALWAYS_BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['169.254.0.0', 16], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) ALWAYS_BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64]] as const) ALWAYS_BLOCKED.addSubnet(net, prefix, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const PRIVATE = new BlockList();
for (const [net, prefix] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10]] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) IPv6 address. */
function embeddedIpv4(address: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(?:0{1,4}:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (m) return m[1]!;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return null;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether the policy lets a call connect to this IP address; null when it may, else why not. */
export function addressRefusal(address: string, policy: OutboundPolicy): string | null {
  const inner = isIP(address) === 6 ? embeddedIpv4(address) : null;
  const ip = inner ?? address;
  const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  if (!isIP(ip)) return `${address} is not an IP address`;
  if (ALWAYS_BLOCKED.check(ip, family)) return `${address} is a link-local, reserved or unspecified address`;
  if (LOOPBACK.check(ip, family)) return policy.allowLoopback ? null : `${address} is a loopback address`;
  if (PRIVATE.check(ip, family)) return policy.allowPrivate ? null : `${address} is a private-network address`;
  return null;
}

/** Checks a URL before any connection: scheme, no credentials, and an IP literal host against the policy. */
export function urlRefusal(raw: string, policy: OutboundPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'the URL carries credentials';
  if (!schemeAllowed(url, policy)) return `scheme ${url.protocol} is not allowed here`;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return addressRefusal(host, policy);
  if (host === 'localhost' || host.endsWith('.localhost')) return policy.allowLoopback ? null : 'localhost is a loopback name';
  return null;
}

/** https always; http only to loopback hosts and only where https is not required (the dev LMS). */
export function schemeAllowed(url: URL, policy: Pick<OutboundPolicy, 'requireHttps'>): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && !policy.requireHttps && isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''));
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) > 0 && LOOPBACK.check(embeddedIpv4(host) ?? host, isIP(embeddedIpv4(host) ?? host) === 4 ? 'ipv4' : 'ipv6');
}

/** A DNS lookup that fails when any address of the name is one the policy refuses. */
export function checkedLookup(policy: OutboundPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const refused = addresses.map((a) => addressRefusal(a.address, policy)).find(Boolean);
      if (refused || !addresses.length) {
        return callback(new OutboundError(`${hostname} resolves to a refused address (${refused ?? 'none'})`, 'refused_address'), '', 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface OutboundRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  maxBytes?: number;
}

/** GETs or POSTs a URL under the policy and parses its JSON answer; throws OutboundError for every failure. */
export async function fetchJsonUnder(policy: OutboundPolicy, raw: string, request: OutboundRequest): Promise<unknown> {
  const refused = urlRefusal(raw, policy);
  if (refused) throw new OutboundError(`refused ${raw}: ${refused}`, 'refused_url');
  const url = new URL(raw);
  const maxBytes = request.maxBytes ?? 256 * 1024;
  const client = url.protocol === 'https:' ? https : http;
  const text = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: request.method ?? 'GET',
        headers: { accept: 'application/json', ...request.headers },
        lookup: checkedLookup(policy),
        signal: AbortSignal.timeout(request.timeoutMs),
        // One connection per call: a pooled socket would skip the address check of this call's lookup.
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new OutboundError(`answer of ${raw} over ${maxBytes} bytes`, 'too_large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => reject(err instanceof OutboundError ? err : new OutboundError(`${raw}: ${err.message}`, 'network')));
    req.end(request.body);
  });
  // Redirects are not followed: a 3xx is as much a failure as a 5xx.
  if (text.status < 200 || text.status > 299) throw new OutboundError(`${raw} answered HTTP ${text.status}`, 'status');
  try {
    return JSON.parse(text.body);
  } catch {
    throw new OutboundError(`${raw} did not answer JSON`, 'not_json');
  }
}
