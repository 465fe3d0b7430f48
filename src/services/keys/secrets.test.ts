// Proves that sealed values open only with their key and associated data, that any alteration is refused with a typed error, and that the keyed hash is HKDF-SHA256 + HMAC-SHA256 as published (RFC 5869).
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { limits } from '../../domain/limits.js';
import { constantTimeEqualHex, createSecrets, masterKeyId, SecretBox, SecretOpenError } from './secrets.js';

const masterKeyHex = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
const otherMasterKeyHex = 'ff'.repeat(32);
const associatedData = 'payer:alice:verification_code';

/** HKDF-SHA256 written out from RFC 5869 with HMAC alone, to check the platform's derivation independently. */
function referenceHkdf(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', salt.length === 0 ? Buffer.alloc(32) : salt)
    .update(ikm)
    .digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let counter = 1; Buffer.concat(blocks).length < length; counter += 1) {
    previous = createHmac('sha256', prk)
      .update(Buffer.concat([previous, info, Buffer.from([counter])]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function sealedParts(sealed: string): string[] {
  return sealed.split('.');
}

/** Flips one bit of the base64url field at `index` of a sealed value. */
function flipBit(sealed: string, index: number): string {
  const parts = sealedParts(sealed);
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0] = bytes[0]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

function openFailure(work: () => unknown): SecretOpenError {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretOpenError);
    return error as SecretOpenError;
  }
  throw new Error('expected the sealed value to be refused');
}

describe('the reference HKDF', () => {
  it('matches RFC 5869 test cases 1 and 3', () => {
    const ikm = Buffer.alloc(22, 0x0b);
    const case1 = referenceHkdf(
      ikm,
      Buffer.from('000102030405060708090a0b0c', 'hex'),
      Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'),
      42,
    );
    expect(case1.toString('hex')).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    const case3 = referenceHkdf(ikm, Buffer.alloc(0), Buffer.alloc(0), 42);
    expect(case3.toString('hex')).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });
});

describe('SecretBox', () => {
  const key = Buffer.alloc(32, 7);
  const box = new SecretBox({ currentKeyId: 'k1', keys: new Map([['k1', key]]) });

  it('seals into the compact v1 format and opens back', () => {
    const sealed = box.seal('12345678', associatedData);
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{22}$/);
    expect(box.open(sealed, associatedData).toString('utf8')).toBe('12345678');
    expect(box.open(box.seal(Buffer.from([0, 255, 1]), associatedData), associatedData)).toEqual(
      Buffer.from([0, 255, 1]),
    );
    expect(box.open(box.seal('', associatedData), associatedData)).toEqual(Buffer.alloc(0));
  });

  it('uses a fresh IV each time, so equal plaintexts give different sealed values', () => {
    const first = box.seal('same', associatedData);
    const second = box.seal('same', associatedData);
    expect(first).not.toBe(second);
    expect(sealedParts(first)[2]).not.toBe(sealedParts(second)[2]);
  });

  it('is plain AES-256-GCM with the header and associated data authenticated, as an independent decipher shows', () => {
    const [, , iv, ciphertext, tag] = sealedParts(box.seal('terminal key', associatedData));
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv!, 'base64url'));
    decipher.setAAD(Buffer.from(`v1.k1.${associatedData}`, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag!, 'base64url'));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(ciphertext!, 'base64url')),
      decipher.final(),
    ]);
    expect(plaintext.toString('utf8')).toBe('terminal key');
  });

  it('opens a value sealed independently with a fixed IV (the stored format stays readable)', () => {
    const iv = Buffer.alloc(12, 1);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`v1.k1.${associatedData}`, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update('4321', 'utf8'), cipher.final()]);
    const sealed = ['v1', 'k1', iv, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
    expect(box.open(sealed, associatedData).toString('utf8')).toBe('4321');
  });

  it('refuses a value moved to another row (different associated data)', () => {
    const sealed = box.seal('12345678', associatedData);
    expect(openFailure(() => box.open(sealed, 'payer:mallory:verification_code')).reason).toBe(
      'authentication_failed',
    );
  });

  it.each([
    ['IV', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ])('refuses a value whose %s was altered', (_name, index) => {
    const sealed = box.seal('12345678', associatedData);
    expect(openFailure(() => box.open(flipBit(sealed, index), associatedData)).reason).toBe(
      'authentication_failed',
    );
  });

  it('refuses a value relabelled with another key id of the same keyring', () => {
    const twoKeys = new SecretBox({
      currentKeyId: 'k1',
      keys: new Map([
        ['k1', key],
        ['k2', Buffer.alloc(32, 9)],
      ]),
    });
    const relabelled = twoKeys.seal('12345678', associatedData).replace('v1.k1.', 'v1.k2.');
    expect(openFailure(() => twoKeys.open(relabelled, associatedData)).reason).toBe('authentication_failed');
  });

  it('refuses a value sealed under a key it does not hold', () => {
    const other = new SecretBox({ currentKeyId: 'k9', keys: new Map([['k9', Buffer.alloc(32, 1)]]) });
    const error = openFailure(() => box.open(other.seal('x', associatedData), associatedData));
    expect(error.reason).toBe('unknown_key');
  });

  it.each([
    ['empty', ''],
    ['too few fields', 'v1.k1.AAAAAAAAAAAAAAAA.AA'],
    ['too many fields', 'v1.k1.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA.AA'],
    ['unknown version', 'v2.k1.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['short IV', 'v1.k1.AAAA.AA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['short tag', 'v1.k1.AAAAAAAAAAAAAAAA.AA.AAAA'],
    ['not base64url', 'v1.k1.AAAAAAAAAAAAAAAA.A*.AAAAAAAAAAAAAAAAAAAAAA'],
    ['padded base64', 'v1.k1.AAAAAAAAAAAAAAAA.AA==.AAAAAAAAAAAAAAAAAAAAAA'],
    ['bad key id', 'v1.k 1.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA'],
  ])('refuses a malformed value (%s) without echoing it', (_name, sealed) => {
    const error = openFailure(() => box.open(sealed, associatedData));
    expect(error.reason).toBe('malformed');
    if (sealed !== '') expect(error.message).not.toContain(sealed);
  });

  it('refuses a plaintext above the limit', () => {
    expect(() => box.seal(Buffer.alloc(limits.sealPlaintextBytesMax + 1), associatedData)).toThrow(
      RangeError,
    );
    expect(
      box.open(box.seal(Buffer.alloc(limits.sealPlaintextBytesMax), associatedData), associatedData).length,
    ).toBe(limits.sealPlaintextBytesMax);
  });

  it('refuses a keyring without its current key, with a short key, or with an id that is not a token', () => {
    expect(() => new SecretBox({ currentKeyId: 'k2', keys: new Map([['k1', key]]) })).toThrow(RangeError);
    expect(() => new SecretBox({ currentKeyId: 'k1', keys: new Map([['k1', Buffer.alloc(16)]]) })).toThrow(
      RangeError,
    );
    expect(() => new SecretBox({ currentKeyId: 'k.1', keys: new Map([['k.1', key]]) })).toThrow(RangeError);
  });
});

describe('createSecrets', () => {
  const secrets = createSecrets(masterKeyHex);

  it('derives the sealing key with HKDF-SHA256 (info countersign/v1/sealing-key) and files it under the key id', () => {
    const master = Buffer.from(masterKeyHex, 'hex');
    const sealingKey = referenceHkdf(master, Buffer.alloc(0), Buffer.from('countersign/v1/sealing-key'), 32);
    const keyId = referenceHkdf(master, Buffer.alloc(0), Buffer.from('countersign/v1/key-id'), 6).toString(
      'base64url',
    );
    expect(masterKeyId(master)).toBe(keyId);
    const sealed = secrets.box.seal('12345678', associatedData);
    expect(sealed.startsWith(`v1.${keyId}.`)).toBe(true);
    const independent = new SecretBox({ currentKeyId: keyId, keys: new Map([[keyId, sealingKey]]) });
    expect(independent.open(sealed, associatedData).toString('utf8')).toBe('12345678');
  });

  it('computes the keyed hash as HMAC-SHA256 under the HKDF code-hash key of the length-prefixed parts', () => {
    const codeHashKey = referenceHkdf(
      Buffer.from(masterKeyHex, 'hex'),
      Buffer.alloc(0),
      Buffer.from('countersign/v1/code-hash-key'),
      32,
    );
    const expected = createHmac('sha256', codeHashKey).update('10:first_code5:alice8:12345678').digest('hex');
    expect(secrets.keyedHash('first_code', 'alice', '12345678')).toBe(expected);
  });

  it('separates purposes, part boundaries and master keys in the keyed hash', () => {
    const hash = secrets.keyedHash('session_token', 'abc');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(secrets.keyedHash('session_token', 'abc')).toBe(hash);
    expect(secrets.keyedHash('api_key', 'abc')).not.toBe(hash);
    expect(secrets.keyedHash('first_code', 'ab', 'c')).not.toBe(secrets.keyedHash('first_code', 'a', 'bc'));
    expect(createSecrets(otherMasterKeyHex).keyedHash('session_token', 'abc')).not.toBe(hash);
  });

  it('refuses a purpose that is not a lower-case token', () => {
    expect(() => secrets.keyedHash('', 'x')).toThrow(RangeError);
    expect(() => secrets.keyedHash('First Code', 'x')).toThrow(RangeError);
  });

  it('opens values sealed under a retired master key and marks them for resealing', () => {
    const retiredSealed = createSecrets(otherMasterKeyHex).box.seal('old', associatedData);
    const rotated = createSecrets(masterKeyHex, [otherMasterKeyHex]);
    expect(rotated.box.open(retiredSealed, associatedData).toString('utf8')).toBe('old');
    expect(rotated.box.needsReseal(retiredSealed)).toBe(true);
    const resealed = rotated.box.seal('old', associatedData);
    expect(rotated.box.needsReseal(resealed)).toBe(false);
    // Without the retired key the old value no longer opens.
    expect(openFailure(() => secrets.box.open(retiredSealed, associatedData)).reason).toBe('unknown_key');
  });

  it.each([
    ['short', 'abcd'],
    ['not hex', 'zz'.repeat(32)],
    ['too long', '00'.repeat(33)],
  ])('refuses a master key that is %s without echoing it', (_name, badHex) => {
    let message = '';
    try {
      createSecrets(badHex);
    } catch (error) {
      message = String(error);
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(badHex);
  });
});

describe('constantTimeEqualHex', () => {
  it('is true only for the same non-empty hex string, ignoring case', () => {
    expect(constantTimeEqualHex('00ff', '00ff')).toBe(true);
    expect(constantTimeEqualHex('00FF', '00ff')).toBe(true);
    expect(constantTimeEqualHex('00ff', '00fe')).toBe(false);
  });

  it('answers false, without throwing, for different lengths, empty strings and non-hex', () => {
    expect(constantTimeEqualHex('00ff', '00ff00')).toBe(false);
    expect(constantTimeEqualHex('', '')).toBe(false);
    expect(constantTimeEqualHex('zz', 'zz')).toBe(false);
    expect(constantTimeEqualHex('é', 'é')).toBe(false);
  });
});
