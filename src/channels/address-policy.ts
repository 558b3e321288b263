import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Which addresses a webhook may reach (no server-side request forgery). Public unicast addresses
 * always; loopback, private, link-local (the cloud metadata address 169.254.169.254 among them),
 * shared, reserved, documentation, multicast, broadcast and unspecified ones, in IPv4 or IPv6
 * (IPv4-mapped, NAT64 and 6to4 forms judged by the IPv4 address they carry), only when an entry
 * of PROMO_WEBHOOK_ALLOW matches: an address (`10.1.2.3`, `::1`), a range (`10.0.0.0/8`,
 * `fd00::/8`), a host name as written in the URL (`hooks.internal`, allowing whatever it resolves
 * to), each optionally with a port (`10.1.2.3:8080`, `[::1]:8080`, `hooks.internal:8080`).
 */
export interface AllowEntry {
  kind: 'address' | 'range' | 'host';
  /** the address, the range's first address, or the lower-cased host name */
  value: string;
  family?: 'ipv4' | 'ipv6';
  prefix?: number;
  port?: number;
}

const HOST_NAME = /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

/** One entry of PROMO_WEBHOOK_ALLOW, or the reason it is not one. */
export function parseAllowEntry(text: string): AllowEntry | { error: string } {
  const entry = text.trim();
  const bad = (why: string) => ({ error: `"${entry}" is not ${why}` });
  let port: number | undefined;
  let host = entry;
  const portOf = (digits: string) => (/^\d{1,5}$/.test(digits) && Number(digits) >= 1 && Number(digits) <= 65535 ? Number(digits) : undefined);
  if (entry.startsWith('[')) {
    const match = /^\[([^\]]+)\](?::(.*))?$/.exec(entry);
    if (!match || isIP(match[1]!) !== 6) return bad('an IPv6 address in brackets, e.g. [fd00::1]:8080');
    host = match[1]!;
    if (match[2] !== undefined) {
      port = portOf(match[2]);
      if (port === undefined) return bad('followed by a port from 1 to 65535');
    }
  } else if (!isIP(entry) && !entry.includes('/') && entry.split(':').length === 2) {
    const [name, digits] = entry.split(':') as [string, string];
    port = portOf(digits);
    if (port === undefined) return bad('a host followed by a port from 1 to 65535');
    host = name;
  }
  if (host.includes('/')) {
    if (port !== undefined) return bad('a range without a port');
    const [address, bits] = host.split('/') as [string, string];
    const family = isIP(address);
    const prefix = /^\d{1,3}$/.test(bits ?? '') ? Number(bits) : NaN;
    if (family === 0 || !(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) return bad('a range such as 10.0.0.0/8 or fd00::/8');
    return { kind: 'range', value: address, family: family === 4 ? 'ipv4' : 'ipv6', prefix };
  }
  const family = isIP(host);
  if (family !== 0) return { kind: 'address', value: host, family: family === 4 ? 'ipv4' : 'ipv6', ...(port !== undefined && { port }) };
  if (!HOST_NAME.test(host) || /^[\d.]+$/.test(host)) return bad('an address, a range (CIDR), a host name, or one of those with a port');
  return { kind: 'host', value: host.toLowerCase().replace(/\.$/, ''), ...(port !== undefined && { port }) };
}

/** PROMO_WEBHOOK_ALLOW's entries (comma-separated), or the problems of its bad ones. */
export function parseAllowList(text: string | undefined): { entries: AllowEntry[]; errors: string[] } {
  const entries: AllowEntry[] = [];
  const errors: string[] = [];
  for (const part of (text ?? '').split(',')) {
    if (part.trim() === '') continue;
    const parsed = parseAllowEntry(part);
    if ('error' in parsed) errors.push(parsed.error);
    else entries.push(parsed);
  }
  return { entries, errors };
}

/** IPv4 ranges that are not public unicast. */
const REFUSED_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 itself
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
/** IPv6 ranges inside global unicast 2000::/3 that are not public (everything outside it is refused). */
const REFUSED_V6: [string, number][] = [
  ['2001::', 23], // IETF protocol assignments, Teredo among them
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
];

const refusedList = new BlockList();
for (const [address, prefix] of REFUSED_V4) refusedList.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of REFUSED_V6) refusedList.addSubnet(address, prefix, 'ipv6');
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/** The eight 16-bit groups of an IPv6 address. */
function groupsOf(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

const v4Of = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;

/**
 * The address a connection to `address` really reaches, as far as the policy is concerned: the
 * IPv4 address an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
 * (64:ff9b::a.b.c.d) or 6to4 (2002:AABB:CCDD::) address carries, otherwise the address itself.
 */
export function effectiveAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  if (isIPv4(address)) return { address, family: 'ipv4' };
  const g = groupsOf(address);
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return { address: v4Of(g[6]!, g[7]!), family: 'ipv4' };
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return { address: v4Of(g[6]!, g[7]!), family: 'ipv4' };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { address: v4Of(g[6]!, g[7]!), family: 'ipv4' };
  if (g[0] === 0x2002) return { address: v4Of(g[1]!, g[2]!), family: 'ipv4' };
  return { address: g.map((group) => group.toString(16)).join(':'), family: 'ipv6' };
}

/** Whether `address` is a public unicast address (one any webhook may reach). */
export function isPublicAddress(address: string): boolean {
  if (isIP(address.split('%')[0]!) === 0) return false;
  const effective = effectiveAddress(address);
  if (effective.family === 'ipv6' && !globalUnicast.check(effective.address, 'ipv6')) return false;
  return !refusedList.check(effective.address, effective.family);
}

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** The system resolver (getaddrinfo, as a connection would use it): every address of `hostname`. */
export const systemLookup: Lookup = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

export interface AddressPolicy {
  /** whether a connection to `address` for the URL's `host` and `port` is allowed */
  allows(address: string, host: string, port: number): boolean;
  /** every address `host` resolves to, each with whether it is allowed (an address literal is its own answer) */
  resolve(host: string, port: number): Promise<{ address: string; family: number; allowed: boolean }[]>;
  lookup: Lookup;
}

/** A policy from PROMO_WEBHOOK_ALLOW's entries; `lookup` is the resolver (the system's by default). */
export function addressPolicy(allow: readonly AllowEntry[] = [], lookup: Lookup = systemLookup): AddressPolicy {
  const compiled = allow.map((entry) => {
    if (entry.kind === 'host') return { entry };
    const list = new BlockList();
    if (entry.kind === 'address') {
      const effective = effectiveAddress(entry.value);
      list.addAddress(effective.address, effective.family);
    } else list.addSubnet(entry.value, entry.prefix!, entry.family!);
    return { entry, list };
  });
  const allows = (address: string, host: string, port: number) => {
    if (isPublicAddress(address)) return true;
    const literal = address.split('%')[0]!;
    if (isIP(literal) === 0) return false;
    const hostName = bareHost(host).toLowerCase().replace(/\.$/, '');
    const candidates = [effectiveAddress(literal), { address: literal, family: isIP(literal) === 4 ? ('ipv4' as const) : ('ipv6' as const) }];
    return compiled.some(({ entry, list }) => {
      if (entry.port !== undefined && entry.port !== port) return false;
      if (!list) return entry.value === hostName;
      return candidates.some((candidate) => list.check(candidate.address, candidate.family));
    });
  };
  return {
    allows,
    lookup,
    async resolve(host, port) {
      const bare = bareHost(host);
      const addresses = isIP(bare) ? [{ address: bare, family: isIP(bare) }] : await lookup(bare);
      return addresses.map(({ address, family }) => ({ address, family, allowed: allows(address, host, port) }));
    },
  };
}

/** A URL's host name without the brackets of an IPv6 literal. */
export const bareHost = (host: string) => (host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);

/** The port a URL connects to. */
export const portOf = (url: URL) => (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);

/** Why no address of `host` may be reached, for an error message. */
export function refusalMessage(host: string, addresses: readonly string[]): string {
  const list = addresses.length > 0 ? addresses.join(', ') : 'nothing';
  const where = isIP(bareHost(host)) ? `the webhook address ${bareHost(host)}` : `the webhook address of ${host} (${list})`;
  return `${where} is not allowed: loopback, private, link-local and other non-public addresses need an entry in PROMO_WEBHOOK_ALLOW`;
}
