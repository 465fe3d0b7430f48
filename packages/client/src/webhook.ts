/**
 * Verifies a webhook's `Countersign-Signature` header before its body is trusted:
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. Any `v1` may match (during a secret
 * rotation there can be several); the comparison is WebCrypto's HMAC verify, which takes the same time
 * however much of a guess is right. A timestamp further than the tolerance from now (either way) is refused,
 * so a captured delivery cannot be replayed later. Runs wherever WebCrypto does (Node 20, browsers, edge).
 */
import type { WebhookEvent } from './types.js';

/** Why a webhook was refused. */
export type WebhookSignatureFailure =
  | 'missing_header'
  | 'malformed_header'
  | 'timestamp_outside_tolerance'
  | 'signature_mismatch'
  | 'malformed_body';

/** A webhook that must not be trusted; `reason` says why. */
export class WebhookSignatureError extends Error {
  readonly reason: WebhookSignatureFailure;

  constructor(reason: WebhookSignatureFailure, message: string) {
    super(message);
    this.name = 'WebhookSignatureError';
    this.reason = reason;
  }
}

const encoder = new TextEncoder();

function parseHeader(
  header: string,
): { timestamp: number; signatures: Uint8Array<ArrayBuffer>[] } | undefined {
  if (header.length > 4096) return undefined;
  let timestamp: number | undefined;
  const signatures: Uint8Array<ArrayBuffer>[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) return undefined;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't') {
      if (timestamp !== undefined || !/^[0-9]{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      const bytes = new Uint8Array(32);
      for (let index = 0; index < 32; index++)
        bytes[index] = Number.parseInt(value.slice(index * 2, index * 2 + 2), 16);
      signatures.push(bytes);
    }
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

/**
 * Checks the signature of a webhook delivery and returns its event. `rawBody` must be the body exactly as
 * received (before any JSON parsing); `secret` is the merchant's webhook secret (`whsec_…`). Throws
 * `WebhookSignatureError` when the header is missing or malformed, the timestamp is more than
 * `toleranceSeconds` away from `nowSeconds`, or no signature matches.
 */
export async function verifyWebhook(
  rawBody: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
  toleranceSeconds = 300,
  nowSeconds: number = Date.now() / 1000,
): Promise<WebhookEvent> {
  if (header === null || header === undefined || header === '') {
    throw new WebhookSignatureError('missing_header', 'The Countersign-Signature header is missing.');
  }
  const parsed = parseHeader(header);
  if (parsed === undefined) {
    throw new WebhookSignatureError('malformed_header', 'The Countersign-Signature header is malformed.');
  }
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) {
    throw new WebhookSignatureError(
      'timestamp_outside_tolerance',
      'The webhook timestamp is too old or too new.',
    );
  }
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody;
  const prefix = encoder.encode(`${parsed.timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  let matched = false;
  for (const signature of parsed.signatures) {
    // Every signature is checked, without stopping at the first match.
    matched = (await globalThis.crypto.subtle.verify('HMAC', key, signature, signed)) || matched;
  }
  if (!matched) throw new WebhookSignatureError('signature_mismatch', 'No webhook signature matches.');
  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent;
  } catch {
    throw new WebhookSignatureError('malformed_body', 'The webhook body is not JSON.');
  }
}
