// Proves that the security settings of the environment are validated with a message naming the variable: retired master keys, the per-payer rate limit, the shared counters' Redis, the TLS files and the trusted proxies.
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

  it('reads REDIS_URL and REDIS_KEY_PREFIX, never repeating the URL (it may carry a password)', () => {
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({}).redisKeyPrefix).toBe('countersign:');
    const withPassword = 'redis://:s3cret-pass@cache.internal:6380/2';
    expect(loadConfig({ REDIS_URL: withPassword }).redisUrl).toBe(withPassword);
    expect(loadConfig({ REDIS_URL: 'rediss://cache.internal' }).redisUrl).toBe('rediss://cache.internal');
    expect(loadConfig({ REDIS_KEY_PREFIX: 'shop-a:' }).redisKeyPrefix).toBe('shop-a:');
    for (const raw of [
      'cache.internal:6379',
      'http://:s3cret-pass@cache.internal',
      'redis://:s3cret-pass@/0',
      'redis://:s3cret-pass@cache.internal/0?password=x',
      'redis://:s3cret-pass@cache.internal/db',
    ]) {
      let refused: unknown;
      try {
        loadConfig({ REDIS_URL: raw });
      } catch (error) {
        refused = error;
      }
      expect(refused, raw).toBeInstanceOf(ConfigError);
      expect((refused as ConfigError).message, raw).toMatch(/^REDIS_URL: /);
      expect((refused as ConfigError).message, raw).not.toContain('s3cret');
    }
    for (const prefix of ['has space', 'x'.repeat(65)]) {
      expect(() => loadConfig({ REDIS_KEY_PREFIX: prefix })).toThrow(/^REDIS_KEY_PREFIX/);
    }
    // Reported with the other variables at fault, in one error.
    expect(() => loadConfig({ REDIS_URL: 'nope', PORT: 'x' })).toThrow(/PORT.*REDIS_URL|REDIS_URL.*PORT/s);
  });

  it('takes TLS files as absolute paths, both or neither', () => {
    const config = loadConfig({ TLS_CERT: 'cert.pem', TLS_KEY: 'key.pem' });
    expect(config.tlsCertPath).toMatch(/^\/.*cert\.pem$/);
    expect(config.tlsKeyPath).toMatch(/^\/.*key\.pem$/);
    expect(() => loadConfig({ TLS_KEY: 'key.pem' })).toThrow(/^TLS_CERT/);
  });

  it('reads TRUST_PROXY as a hop count or a list of proxy addresses and networks, never as "every hop"', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.0.2.1,fd00::/8' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.0.2.1',
      'fd00::/8',
    ]);
    for (const raw of [
      'true',
      'TRUE',
      'yes',
      '-1',
      '1.5',
      '17',
      'proxy.example',
      '10.0.0.0/33',
      '10.0.0.1,',
      '::1/129',
    ]) {
      let refused: unknown;
      try {
        loadConfig({ TRUST_PROXY: raw });
      } catch (error) {
        refused = error;
      }
      expect(refused, raw).toBeInstanceOf(ConfigError);
      expect((refused as ConfigError).variable).toBe('TRUST_PROXY');
    }
    // "true" used to trust every hop; the refusal says what to write instead.
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(
      /^TRUST_PROXY: .*number of proxies.*comma-separated list of proxy addresses/,
    );
  });
});
