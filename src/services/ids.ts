/**
 * Identifiers. Ids are UUIDs chosen by the platform, never sequences. Where a retry must land on the
 * same row (an idempotent request, the expiry of a given hold), the id is derived from what identifies
 * the operation, so running it twice finds the first result instead of doing the work again.
 *
 * A derived id is keyed: what it is derived from is often chosen or guessable by others (an
 * Idempotency-Key such as `order-1001`), and an id that anyone could compute from it would find the
 * object (a checkout page shows merchant, amount and description under its payment request's id). The
 * key is the platform's keyed-hash key (`secrets.ts`), which every process sharing the database shares
 * and which a rotation of the master key keeps (`platform-keys.ts`), so a retry derives the same id on
 * any server, before and after a rotation.
 */
import { randomUUID } from 'node:crypto';

/** A fresh random (version 4) UUID. */
export function newId(): string {
  return randomUUID();
}

/** The platform's keyed hash (`Secrets.keyedHash`): hex HMAC-SHA256 of a purpose and parts. */
export type KeyedHash = (purpose: string, ...parts: string[]) => string;

/** The keyed-hash purpose of derived ids, so that an id never equals a stored hash of another use. */
export const derivedIdPurpose = 'derived_id';

/**
 * A UUID (version 8, RFC 9562) derived from `parts` under the platform's key: equal parts give the same
 * id on one platform, and nobody without the key can compute it.
 */
export function derivedId(keyedHash: KeyedHash, ...parts: readonly string[]): string {
  const bytes = Buffer.from(keyedHash(derivedIdPurpose, ...parts), 'hex').subarray(0, 16);
  if (bytes.length !== 16) throw new Error('invariant: a keyed hash holds at least 16 bytes');
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
