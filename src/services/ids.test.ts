// Proves that a derived id is a UUIDv8 keyed with the platform's key: the same parts give the same id under one key, another key or other parts give another, and nobody can compute it as an unkeyed hash of the parts.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derivedId, newId } from './ids.js';
import { createSecrets } from './keys/secrets.js';

const keyA = createSecrets('11'.repeat(32)).keyedHash;
const keyB = createSecrets('22'.repeat(32)).keyedHash;
const uuidV8Pattern = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('derivedId', () => {
  it('is a UUIDv8 that depends on the key and on every part, length-prefixed', () => {
    const id = derivedId(keyA, 'payment', 'payer:alice:order-1');
    expect(id).toMatch(uuidV8Pattern);
    expect(derivedId(keyA, 'payment', 'payer:alice:order-1')).toBe(id);
    expect(derivedId(keyB, 'payment', 'payer:alice:order-1')).not.toBe(id);
    expect(derivedId(keyA, 'payment', 'payer:alice:order-2')).not.toBe(id);
    expect(derivedId(keyA, 'refund', 'payer:alice:order-1')).not.toBe(id);
    expect(derivedId(keyA, 'ab', 'c')).not.toBe(derivedId(keyA, 'a', 'bc'));
    expect(newId()).not.toMatch(uuidV8Pattern);
  });

  it('is the keyed hash of purpose derived_id, not a plain hash of the parts', () => {
    const id = derivedId(keyA, 'payment', 'k');
    const keyed = keyA('derived_id', 'payment', 'k').slice(0, 32);
    expect(id.replaceAll('-', '').slice(0, 12)).toBe(keyed.slice(0, 12));
    const plain = createHash('sha256').update('7:payment').update('1:k').digest('hex').slice(0, 32);
    expect(id.replaceAll('-', '').slice(0, 12)).not.toBe(plain.slice(0, 12));
  });
});
