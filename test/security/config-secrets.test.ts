// Proves that the security settings of the environment are validated with a message naming the variable: retired master keys, the per-payer rate limit and the TLS files.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const key = (digit: string) => digit.repeat(64);

describe('security configuration', () => {
  it('reads retired master keys as a list, refusing malformed keys, repeats and the current key', () => {
    expect(
      loadConfig({ MASTER_KEY: key('a'), MASTER_KEYS_RETIRED: `${key('b')}, ${key('C')}` })
        .masterKeysRetiredHex,
    ).toEqual([key('b'), key('c')]);
    expect(loadConfig({}).masterKeysRetiredHex).toEqual([]);
    for (const retired of ['xyz', `${key('b')},${key('b')}`, key('a')]) {
      expect(() => loadConfig({ MASTER_KEY: key('a'), MASTER_KEYS_RETIRED: retired })).toThrow(
        /^MASTER_KEYS_RETIRED/,
      );
    }
  });

  it('bounds the per-payer rate limit', () => {
    expect(loadConfig({}).rateLimitPerPayer).toBe(20);
    expect(loadConfig({ RATE_LIMIT_PER_PAYER: '5' }).rateLimitPerPayer).toBe(5);
    expect(() => loadConfig({ RATE_LIMIT_PER_PAYER: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ RATE_LIMIT_PER_PAYER: 'many' })).toThrow(/^RATE_LIMIT_PER_PAYER/);
  });

  it('takes TLS files as absolute paths, both or neither', () => {
    const config = loadConfig({ TLS_CERT: 'cert.pem', TLS_KEY: 'key.pem' });
    expect(config.tlsCertPath).toMatch(/^\/.*cert\.pem$/);
    expect(config.tlsKeyPath).toMatch(/^\/.*key\.pem$/);
    expect(() => loadConfig({ TLS_KEY: 'key.pem' })).toThrow(/^TLS_CERT/);
  });
});
