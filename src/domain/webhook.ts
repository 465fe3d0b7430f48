/**
 * Webhooks as pure rules: the event types, the signature header's format, and the retry schedule.
 *
 * A delivery is retried with exponential backoff (30 s, 1 min, 2 min, … capped at 6 h between attempts)
 * until it succeeds or three days have passed since the event. Each wait is spread by up to ±10 % with a
 * jitter derived from the delivery's id, so that many deliveries to an endpoint that comes back do not
 * arrive at once, and a test with a manual clock still knows the bounds of every wait.
 */
import { webhookLimits } from './limits.js';

/** Every event type a merchant may receive. */
export const webhookEventTypes = [
  'payment_request.paid',
  'payment_request.expired',
  'payment_request.canceled',
  'refund.succeeded',
] as const;

/** The type of an event. */
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** The name of the signature header. */
export const signatureHeader = 'Countersign-Signature';

/**
 * The wait after failed attempt number `attempt` (1 for the first), before jitter: 30 s doubled each time,
 * capped at six hours.
 */
export function baseRetryDelayMs(attempt: number): number {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError('attempt counts from 1');
  const exponent = Math.min(attempt - 1, 30);
  return Math.min(webhookLimits.firstRetryDelayMs * 2 ** exponent, webhookLimits.retryDelayMaxMs);
}

/**
 * The wait after failed attempt `attempt`, spread by `jitterUnit` in [0, 1) to ±10 % of the base wait.
 * The caller derives `jitterUnit` from the delivery's id and the attempt, so the schedule is reproducible.
 */
export function retryDelayMs(attempt: number, jitterUnit: number): number {
  if (!(jitterUnit >= 0 && jitterUnit < 1)) throw new RangeError('jitterUnit lies in [0, 1)');
  const base = baseRetryDelayMs(attempt);
  const spread = base * webhookLimits.retryJitterFraction;
  return Math.round(base - spread + 2 * spread * jitterUnit);
}

/**
 * When the next attempt after failed attempt `attempt` starts, or undefined when it would start after
 * `giveUpAtMs`: the delivery has then failed for good (until the merchant replays it).
 */
export function nextAttemptAtMs(
  attempt: number,
  failedAtMs: number,
  giveUpAtMs: number,
  jitterUnit: number,
): number | undefined {
  const next = failedAtMs + retryDelayMs(attempt, jitterUnit);
  return next > giveUpAtMs ? undefined : next;
}

/** The value of the signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export function formatSignatureHeader(timestampSeconds: number, signaturesHex: readonly string[]): string {
  return [`t=${timestampSeconds}`, ...signaturesHex.map((hex) => `v1=${hex}`)].join(',');
}

/** The text that is signed: the timestamp, a dot, and the raw body exactly as sent. */
export function signedPayload(timestampSeconds: number, rawBody: string): string {
  return `${timestampSeconds}.${rawBody}`;
}

/** A parsed signature header: its timestamp and every `v1` signature in it (several during a rotation). */
export interface ParsedSignatureHeader {
  readonly timestampSeconds: number;
  readonly signaturesHex: readonly string[];
}

/**
 * Parses a signature header; undefined when it has no single integer timestamp or no `v1` signature of
 * 64 hex digits. Unknown schemes (a later `v2`) are ignored, so that new schemes can be added.
 */
export function parseSignatureHeader(header: string): ParsedSignatureHeader | undefined {
  if (header.length > webhookLimits.signatureHeaderLengthMax) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator <= 0) return undefined;
    const name = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (name === 't') {
      if (timestamp !== undefined || !/^[0-9]{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestampSeconds: timestamp, signaturesHex: signatures };
}
