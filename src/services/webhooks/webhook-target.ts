/**
 * Which URLs a merchant may give: webhook targets and return URLs. Both must be absolute http(s) URLs
 * without credentials. A webhook target is also where the platform itself sends requests, so unless the
 * deployment allows it (`WEBHOOK_ALLOW_PRIVATE_TARGETS`, for development and tests), it must not be a
 * loopback, private, link-local or otherwise non-public address: a merchant must not be able to make the
 * platform probe its own network (server-side request forgery). Names are checked when the URL is given
 * and again, on every attempt, against the addresses they resolve to (see `webhook-transport.ts`).
 */
import { BlockList, isIP } from 'node:net';
import { CountersignError } from '../../domain/errors.js';
import { merchantLimits } from '../../domain/limits.js';

// Two lists, not one: a BlockList matches an IPv4 address against its IPv6 rules too (as ::ffff:a.b.c.d),
// so the IPv6 ranges below that contain the mapped range would refuse every IPv4 address.
const nonPublicIpv4Addresses = new BlockList();
const nonPublicIpv6Addresses = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublicIpv4Addresses.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  // IPv4-compatible (deprecated) addresses, which include :: and ::1: some stacks route ::a.b.c.d to the
  // IPv4 address it carries, which would bypass the IPv4 list above.
  ['::', 96],
  // IPv4-mapped addresses are judged by the IPv4 address they carry (isPublicAddress); this entry only
  // guards against a spelling that the parsing there misses.
  ['::ffff:0:0', 96],
  // IPv4-translated (SIIT) and the NAT64 prefixes: each carries an IPv4 address in its last 32 bits, and a
  // translator on the path would deliver to it.
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  // 6to4 and Teredo: tunnels whose addresses embed IPv4 addresses (a relay's, a client's) that the
  // platform would reach through the tunnel; neither is used by a public web server today.
  ['2002::', 16],
  ['2001::', 32],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  nonPublicIpv6Addresses.addSubnet(network, prefix, 'ipv6');
}

/** True when `address` (an IPv4 or IPv6 literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, however spelled) reaches the IPv4 address it carries.
    const mapped = mappedIpv4(address);
    if (mapped !== undefined) return isPublicAddress(mapped);
    return !nonPublicIpv6Addresses.check(address, 'ipv6');
  }
  return !nonPublicIpv4Addresses.check(address, 'ipv4');
}

/**
 * The IPv4 address carried by an IPv4-mapped IPv6 address (`::ffff:0:0/96`) in any spelling — dotted or
 * hex, compressed or in full — or undefined for any other address. `address` is a valid IPv6 literal.
 */
function mappedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (groups === undefined || groups.slice(0, 5).some((group) => group !== 0) || groups[5] !== 0xffff) {
    return undefined;
  }
  const [high, low] = [groups[6]!, groups[7]!];
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** The eight 16-bit groups of a valid IPv6 literal (zone index ignored); undefined if it cannot be read. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) =>
    part === undefined || part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}

/** The host of a URL as an address literal (without IPv6 brackets), or undefined when it is a name. */
export function addressLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

function invalid(param: string, message: string): CountersignError {
  return new CountersignError('invalid_request', { param, message });
}

/** Parses an absolute http(s) URL without credentials; throws `invalid_request` naming `param`. */
export function checkHttpUrl(raw: string, param: string): URL {
  if (raw.length === 0 || raw.length > merchantLimits.urlCharactersMax) {
    throw invalid(param, `${param} must be 1 to ${merchantLimits.urlCharactersMax} characters`);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(param, `${param} must be an absolute http:// or https:// URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(param, `${param} must be an absolute http:// or https:// URL`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid(param, `${param} must not carry a user name or password`);
  }
  return url;
}

/**
 * Checks a webhook URL: http(s), no credentials, no fragment, and — unless private targets are allowed —
 * no `localhost` and no non-public address literal. Returns the URL as it will be stored.
 */
export function checkWebhookUrl(raw: string, allowPrivateTargets: boolean): string {
  const url = checkHttpUrl(raw, 'webhookUrl');
  if (url.hash !== '') throw invalid('webhookUrl', 'webhookUrl must not have a #fragment');
  if (!allowPrivateTargets) {
    const host = url.hostname.toLowerCase();
    const literal = addressLiteral(host);
    const local = host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local');
    if (local || (literal !== undefined && !isPublicAddress(literal))) {
      throw invalid('webhookUrl', 'webhookUrl must reach a public address');
    }
  }
  return url.href;
}
