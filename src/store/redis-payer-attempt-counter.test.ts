// Proves that the Redis attempt counter counts atomically across connections (a concurrent burst gets each count once), gives every window key its expiry, keeps platforms with different prefixes apart, and rejects quickly when Redis cannot be reached, so that the throttle fails closed instead of waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/processes.js';
import { deleteKeys, openTestRedis, uniqueKeyPrefix } from '../../test/support/redis.js';
import { PayerRateLimiter } from '../services/parties/payer-rate-limiter.js';
import { openSharedCounterConnection, type SharedCounterConnection } from './redis-client.js';
import { payerAttemptKey, RedisPayerAttemptCounter } from './redis-payer-attempt-counter.js';

const windowMs = 60_000;

describe('RedisPayerAttemptCounter', () => {
  const prefix = uniqueKeyPrefix('counter');
  const otherPrefix = uniqueKeyPrefix('counter-other');
  let first: SharedCounterConnection;
  let second: SharedCounterConnection;
  let other: SharedCounterConnection;

  beforeAll(async () => {
    [first, second, other] = await Promise.all([
      openTestRedis(prefix),
      openTestRedis(prefix),
      openTestRedis(otherPrefix),
    ]);
  });
  afterAll(async () => {
    await Promise.all([first?.close(), second?.close(), other?.close()]);
    await deleteKeys(prefix);
    await deleteKeys(otherPrefix);
  });

  it('hands out every count once to a concurrent burst over two connections', async () => {
    const counters = [new RedisPayerAttemptCounter(first.redis), new RedisPayerAttemptCounter(second.redis)];
    const attempt = { payerId: 'alice', windowStartMs: 0 };
    const counts = await Promise.all(
      Array.from({ length: 60 }, (_, index) => counters[index % 2]!.count([attempt], windowMs)),
    );
    expect(counts.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, index) => index + 1));
  });

  it('counts a batch in one pipeline, an id named twice counting twice, and sets each key to expire', async () => {
    const counter = new RedisPayerAttemptCounter(first.redis);
    const counts = await counter.count(
      [
        { payerId: 'bob', windowStartMs: windowMs },
        { payerId: 'carol', windowStartMs: windowMs },
        { payerId: 'bob', windowStartMs: windowMs },
      ],
      windowMs,
    );
    expect(counts).toEqual([1, 1, 2]);
    const ttlMs = await first.redis.pttl(payerAttemptKey({ payerId: 'bob', windowStartMs: windowMs }));
    expect(ttlMs).toBeGreaterThan(0);
    expect(ttlMs).toBeLessThanOrEqual(windowMs);
    // The next window is a key of its own.
    expect(await counter.count([{ payerId: 'bob', windowStartMs: 2 * windowMs }], windowMs)).toEqual([1]);
  });

  it('keeps the payer id out of the key, and platforms with different prefixes apart', async () => {
    const key = payerAttemptKey({ payerId: 'dave@example.com', windowStartMs: 0 });
    expect(key).not.toContain('dave');
    expect(key.length).toBeLessThan(80);
    const mine = new RedisPayerAttemptCounter(first.redis);
    const theirs = new RedisPayerAttemptCounter(other.redis);
    await mine.count([{ payerId: 'dave', windowStartMs: 0 }], windowMs);
    await mine.count([{ payerId: 'dave', windowStartMs: 0 }], windowMs);
    expect(await theirs.count([{ payerId: 'dave', windowStartMs: 0 }], windowMs)).toEqual([1]);
    expect(await first.redis.exists(key)).toBe(0);
  });

  it('rejects within a second when Redis cannot be reached, and the limiter refuses with 503', async () => {
    const port = await freePort();
    const down = openSharedCounterConnection(`redis://127.0.0.1:${port}`, prefix, () => {});
    try {
      const limiter = new PayerRateLimiter(
        { attemptsMax: 5, windowMs, payersTrackedMax: 10 },
        new RedisPayerAttemptCounter(down.redis),
      );
      const startedMs = Date.now();
      await expect(limiter.attempt('erin', Date.now())).rejects.toMatchObject({
        code: 'service_unavailable',
        details: { retryAfterSeconds: 1 },
      });
      expect(Date.now() - startedMs).toBeLessThan(1_000);
    } finally {
      await down.close();
    }
  });
});
