/**
 * Identifiers. Ids are UUIDs chosen by the platform, never sequences. Where a retry must land on the
 * same row (an idempotent request, the expiry of a given hold), the id is derived from what identifies
 * the operation, so running it twice finds the first result instead of doing the work again.
 */
import { createHash, randomUUID } from 'node:crypto';

/** A fresh random (version 4) UUID. */
export function newId(): string {
  return randomUUID();
}

/** A UUID (version 8, RFC 9562) derived from `parts`: equal parts give the same id. */
export function derivedId(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  const bytes = hash.digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
