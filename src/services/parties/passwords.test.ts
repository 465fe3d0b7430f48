// Proves that passwords are stored as Argon2id (m=19456 KiB, t=2, p=1) PHC strings, that verification fails closed, and that an unknown payer costs one full Argon2id verification like a wrong password.
import argon2 from 'argon2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  hashPassword,
  passwordHashIterations,
  passwordHashMemoryKibibytes,
  passwordHashParallelism,
  passwordNeedsRehash,
  prepareDummyPasswordHash,
  verifyPassword,
  verifyPasswordOrDummy,
} from './passwords.js';

const referencePrefix = '$argon2id$v=19$m=19456,t=2,p=1$';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('passwords', () => {
  it('exports the OWASP parameters', () => {
    expect([passwordHashMemoryKibibytes, passwordHashIterations, passwordHashParallelism]).toEqual([
      19456, 2, 1,
    ]);
  });

  it('stores an Argon2id PHC string with the parameters in reference order and a fresh salt', async () => {
    const first = await hashPassword('correct horse battery staple');
    const second = await hashPassword('correct horse battery staple');
    expect(first.startsWith(referencePrefix)).toBe(true);
    expect(first).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(second).not.toBe(first);
    expect(passwordNeedsRehash(first)).toBe(false);
  });

  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapl')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
    expect(await verifyPasswordOrDummy(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPasswordOrDummy(hash, 'wrong')).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['not a PHC string', 'plaintext-password'],
    ['truncated', referencePrefix],
    ['another algorithm', '$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234'],
  ])('answers false, without throwing, for a malformed hash (%s)', async (_name, hash) => {
    await expect(verifyPassword(hash, 'anything')).resolves.toBe(false);
    await expect(verifyPasswordOrDummy(hash, 'anything')).resolves.toBe(false);
  });

  it('asks for a rehash of a hash made with other parameters, or of one it cannot read', async () => {
    const older = await argon2.hash('pw', {
      type: argon2.argon2id,
      memoryCost: 8192,
      timeCost: 3,
      parallelism: 1,
    });
    expect(passwordNeedsRehash(older)).toBe(true);
    expect(passwordNeedsRehash('garbage')).toBe(true);
  });

  it('checks an unknown payer against a dummy hash with the same parameters, and answers false', async () => {
    const dummy = await prepareDummyPasswordHash();
    expect(dummy.startsWith(referencePrefix)).toBe(true);
    expect(await prepareDummyPasswordHash()).toBe(dummy);
    const verify = vi.spyOn(argon2, 'verify');
    expect(await verifyPasswordOrDummy(undefined, 'whatever the attacker guesses')).toBe(false);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify).toHaveBeenCalledWith(dummy, 'whatever the attacker guesses');
  });

  it('answers false on the dummy path even if the verification were to succeed', async () => {
    vi.spyOn(argon2, 'verify').mockResolvedValue(true);
    expect(await verifyPasswordOrDummy(undefined, 'anything')).toBe(false);
  });
});
