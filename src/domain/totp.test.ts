// Proves TOTP against the eighteen RFC 6238 Appendix B values, base32 against RFC 4648 §10, and that
// verification accepts one step of drift either way, nothing further, and never a step already accepted.
import { describe, expect, it } from 'vitest';
import type { OtpHash } from './ocra.js';
import { base32Decode, base32Encode, matchTotp, totpAt, totpStep, totpUri } from './totp.js';

// RFC 6238 Appendix B: 8 digits, 30-second steps from T0 = 0, a seed per hash.
const seeds: Record<OtpHash, Uint8Array> = {
  'SHA-1': new TextEncoder().encode('12345678901234567890'),
  'SHA-256': new TextEncoder().encode('12345678901234567890123456789012'),
  'SHA-512': new TextEncoder().encode('1234567890123456789012345678901234567890123456789012345678901234'),
};
const appendixB: readonly [number, OtpHash, string][] = [
  [59, 'SHA-1', '94287082'],
  [59, 'SHA-256', '46119246'],
  [59, 'SHA-512', '90693936'],
  [1111111109, 'SHA-1', '07081804'],
  [1111111109, 'SHA-256', '68084774'],
  [1111111109, 'SHA-512', '25091201'],
  [1111111111, 'SHA-1', '14050471'],
  [1111111111, 'SHA-256', '67062674'],
  [1111111111, 'SHA-512', '99943326'],
  [1234567890, 'SHA-1', '89005924'],
  [1234567890, 'SHA-256', '91819424'],
  [1234567890, 'SHA-512', '93441116'],
  [2000000000, 'SHA-1', '69279037'],
  [2000000000, 'SHA-256', '90698825'],
  [2000000000, 'SHA-512', '38618901'],
  [20000000000, 'SHA-1', '65353130'],
  [20000000000, 'SHA-256', '77737706'],
  [20000000000, 'SHA-512', '47863826'],
];

describe('RFC 6238 Appendix B', () => {
  it.each(appendixB)('at %i s with %s gives %s', async (seconds, hash, value) => {
    await expect(totpAt(seeds[hash], totpStep(seconds * 1000), 8, hash)).resolves.toBe(value);
  });

  it('numbers the steps as the RFC table does', () => {
    expect(totpStep(59_000)).toBe(1);
    expect(totpStep(1111111109_000)).toBe(0x23523ec);
    expect(totpStep(20000000000_000)).toBe(0x27bc86aa);
  });
});

describe('RFC 4648 §10 base32', () => {
  const vectors: [string, string][] = [
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ];
  it.each(vectors)('%j encodes as %j (padding dropped) and back', (text, encoded) => {
    const bytes = new TextEncoder().encode(text);
    expect(base32Encode(bytes)).toBe(encoded);
    expect(
      Buffer.from(base32Decode(`${encoded}======`.slice(0, Math.ceil(encoded.length / 8) * 8 || 0))),
    ).toEqual(Buffer.from(bytes));
  });

  it('refuses characters outside the alphabet', () => {
    expect(() => base32Decode('MZ1W')).toThrow(RangeError);
  });
});

describe('matchTotp', () => {
  const key = seeds['SHA-1'];
  const nowMs = 1234567890_000;
  const step = totpStep(nowMs);
  const six = (s: number) => totpAt(key, s);

  it('accepts the current step and one either side, and returns the step matched', async () => {
    await expect(matchTotp(key, await six(step), nowMs, 0)).resolves.toBe(step);
    await expect(matchTotp(key, await six(step - 1), nowMs, 0)).resolves.toBe(step - 1);
    await expect(matchTotp(key, await six(step + 1), nowMs, 0)).resolves.toBe(step + 1);
  });

  it('refuses two steps away, a wrong code and a code of another key', async () => {
    await expect(matchTotp(key, await six(step - 2), nowMs, 0)).resolves.toBeUndefined();
    await expect(matchTotp(key, await six(step + 2), nowMs, 0)).resolves.toBeUndefined();
    const value = await six(step);
    const wrong = String((Number(value) + 1) % 1_000_000).padStart(6, '0');
    await expect(matchTotp(key, wrong, nowMs, 0)).resolves.toBeUndefined();
    await expect(
      matchTotp(new TextEncoder().encode('09876543210987654321'), value, nowMs, 0),
    ).resolves.toBeUndefined();
  });

  it('never accepts a step at or before the last one accepted (no replay)', async () => {
    await expect(matchTotp(key, await six(step), nowMs, step)).resolves.toBeUndefined();
    await expect(matchTotp(key, await six(step - 1), nowMs, step - 1)).resolves.toBeUndefined();
    await expect(matchTotp(key, await six(step + 1), nowMs, step)).resolves.toBe(step + 1);
  });
});

describe('totpUri', () => {
  it('spells out the parameters and carries the key in base32', () => {
    const uri = new URL(totpUri('Countersign', 'ada lovelace', seeds['SHA-1']));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Countersign:ada lovelace');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      issuer: 'Countersign',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });
});
