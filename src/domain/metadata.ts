/**
 * Metadata: a caller's own key/value strings on a payment, a payment request or a refund (an order number,
 * a customer reference), stored with the object and returned in every answer and event about it. The
 * platform never reads it. Bounded by `limits.metadataKeysMax`, `metadataKeyLengthMax` and
 * `metadataValueLengthMax`; a key is 1 or more characters without control characters (keys name things
 * and show in tables), a value any string but NUL, which PostgreSQL cannot store (the empty string is a
 * value).
 */
import { CountersignError } from './errors.js';
import { limits } from './limits.js';

/** Metadata as stored and returned. */
export type Metadata = Readonly<Record<string, string>>;

/** The metadata of an object created without any. */
export const emptyMetadata: Metadata = Object.freeze({});

/** A key: 1 to `limits.metadataKeyLengthMax` characters, none a C0 control character or DEL. */
function isMetadataKey(key: string): boolean {
  if (key.length === 0 || key.length > limits.metadataKeyLengthMax) return false;
  for (let index = 0; index < key.length; index += 1) {
    const unit = key.charCodeAt(index);
    if (unit < 0x20 || unit === 0x7f) return false;
  }
  return true;
}

function refused(param: string, message: string): CountersignError {
  return new CountersignError('metadata_invalid', { param, message });
}

/**
 * `value` as metadata, or `metadata_invalid` naming the field at fault (`metadata` or `metadata.<key>`).
 * Undefined is no metadata. Keys keep the caller's order, as JSON objects do.
 */
export function checkMetadata(value: unknown): Metadata {
  if (value === undefined) return emptyMetadata;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refused('metadata', 'metadata must be an object of strings.');
  }
  const entries = Object.entries(value);
  if (entries.length > limits.metadataKeysMax) {
    throw refused('metadata', `metadata may hold at most ${limits.metadataKeysMax} keys.`);
  }
  for (const [key, entry] of entries) {
    if (!isMetadataKey(key)) {
      throw refused(
        'metadata',
        `A metadata key must be 1 to ${limits.metadataKeyLengthMax} characters without control characters.`,
      );
    }
    if (
      typeof entry !== 'string' ||
      entry.length > limits.metadataValueLengthMax ||
      entry.includes('\u0000')
    ) {
      throw refused(
        `metadata.${key}`,
        `A metadata value must be a string of at most ${limits.metadataValueLengthMax} characters.`,
      );
    }
  }
  return Object.freeze(Object.fromEntries(entries)) as Metadata;
}
