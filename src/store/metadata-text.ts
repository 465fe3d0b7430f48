/**
 * Metadata as stored: the JSON text of an object of strings (migrations/0016_metadata.sql).
 */
import type { Metadata } from '../domain/metadata.js';

/** The column's text of `metadata`. */
export function metadataText(metadata: Metadata): string {
  return JSON.stringify(metadata);
}

/** The metadata of a column's text; only `metadataText` writes it, so anything else is a broken invariant. */
export function metadataFromText(text: string): Metadata {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('invariant: a metadata column holds a JSON object');
  }
  return Object.freeze(value as Record<string, string>);
}
