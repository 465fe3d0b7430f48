/**
 * Which URLs a merchant may give: webhook targets and return URLs. Both must be absolute http(s) URLs
 * without credentials. A webhook target is also where the platform itself sends requests, so unless the
 * deployment allows it (`WEBHOOK_ALLOW_PRIVATE_TARGETS`, for development and tests), it must not be a
 * loopback, private, link-local or otherwise non-public address: a merchant must not be able to make the
 * platform probe its own network (server-side request forgery). Names are checked when the URL is given
 * and again, on every attempt, against the addresses they resolve to (see `webhook-transport.ts`).
 */
import { BlockList, isIP } from 'node:net';
import { CountersignError } from '../domain/errors.js';
import { merchantLimits } from '../domain/merchant.js';

const nonPublicAddresses = new BlockList();
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
  nonPublicAddresses.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  nonPublicAddresses.addSubnet(network, prefix, 'ipv6');
}

/** True when `address` (an IPv4 or IPv6 literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) reaches the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped !== null) return isPublicAddress(mapped[1]!);
    if (/^::ffff:/i.test(address)) return false;
    return !nonPublicAddresses.check(address, 'ipv6');
  }
  return !nonPublicAddresses.check(address, 'ipv4');
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
