/**
 * Merchants as pure rules: the shape of their credentials, of a payment request and its life, and of list
 * pages. A merchant is a payee that integrates over the API; it never learns who paid it (embodiment 3).
 */
import { merchantLimits } from './limits.js';
import type { Metadata } from './metadata.js';

/** Prefix of merchant API keys, so that a leaked key is recognisable to secret scanners and to people. */
export const apiKeyPrefix = 'cs_live_';

/** Prefix of webhook signing secrets. */
export const webhookSecretPrefix = 'whsec_';

/** Random bytes of an API key (192 bits) and of a webhook secret (256 bits). */
export const apiKeyRandomBytes = 24;
export const webhookSecretRandomBytes = 32;

/**
 * Characters of an API key shown in lists: the prefix and six random characters (36 bits), which tell
 * keys apart while leaving 156 bits unknown.
 */
export const apiKeyDisplayCharacters = apiKeyPrefix.length + 6;

/** An API key as it may appear in an Authorization header: the prefix and 32 base64url characters. */
export const apiKeyPattern = /^cs_live_[A-Za-z0-9_-]{32}$/;

/** The life of a payment request: `open`, then exactly one of `paid`, `expired` or `canceled`. */
export type PaymentRequestStatus = 'open' | 'paid' | 'expired' | 'canceled';

/** A payment request as services see it. */
export interface PaymentRequest {
  readonly id: string;
  readonly merchantId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly reference: string;
  readonly description: string | null;
  readonly returnUrl: string | null;
  readonly status: PaymentRequestStatus;
  readonly paymentId: string | null;
  /** The merchant's own key/value strings (metadata.ts). */
  readonly metadata: Metadata;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly updatedAtMs: number;
}

/** A merchant's settings as stored; the webhook secret only sealed. */
export interface MerchantRecord {
  readonly id: string;
  readonly webhookUrl: string | null;
  readonly webhookSecretSealed: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** An API key as stored: its display prefix and keyed hash, never the key. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly merchantId: string;
  readonly prefix: string;
  readonly keyHash: string;
  readonly status: 'active' | 'revoked';
  readonly createdAtMs: number;
  readonly expiresAtMs: number | null;
  readonly revokedAtMs: number | null;
}

/** True when an API key is usable at `nowMs`: active and not past the end of a rotation's grace period. */
export function isApiKeyUsable(key: ApiKeyRecord, nowMs: number): boolean {
  return key.status === 'active' && (key.expiresAtMs === null || nowMs < key.expiresAtMs);
}

/** True when a payment request has passed its expiry at `nowMs` (whether or not it is marked expired yet). */
export function isPastExpiry(request: PaymentRequest, nowMs: number): boolean {
  return nowMs >= request.expiresAtMs;
}

/**
 * True when a payer may start paying `request` at `nowMs`: it is open and not past its expiry. A request
 * stays open past its expiry only while a payment started before it is still awaiting approval.
 */
export function acceptsNewPayment(request: PaymentRequest, nowMs: number): boolean {
  return request.status === 'open' && !isPastExpiry(request, nowMs);
}

/** A position in a list ordered newest first: the creation time and id of the last item seen. */
export interface ListCursor {
  readonly createdAtMs: number;
  readonly id: string;
}

/** One page of a list, newest first; `hasMore` tells whether a next page exists. */
export interface Page<T> {
  readonly data: readonly T[];
  readonly hasMore: boolean;
}

/** Builds a page from rows fetched with one more than `limit`: the extra row only proves there is more. */
export function pageOf<T>(rows: readonly T[], limit: number): Page<T> {
  return { data: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** Clamps a requested page size into the allowed bounds; the default when none is given. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return merchantLimits.pageSizeDefault;
  return Math.max(merchantLimits.pageSizeMin, Math.min(merchantLimits.pageSizeMax, Math.trunc(limit)));
}

declare module './audit.js' {
  interface AuditEventRegistry {
    merchant_created: true;
    merchant_updated: true;
    merchant_api_key_created: true;
    merchant_api_key_revoked: true;
    merchant_webhook_secret_rotated: true;
    payment_request_redeemed: true;
    refund_created: true;
  }
}
