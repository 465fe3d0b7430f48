// The Redis of the shared-limit tests: its URL, a key prefix of its own for each run, and a connection that fails the suite (never skips it) when Redis cannot be reached.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { openSharedCounterConnection, type SharedCounterConnection } from '../../src/store/redis-client.js';

/** TEST_REDIS_URL, default `redis://127.0.0.1:6379`. */
export function testRedisUrl(): string {
  return inject('testRedisUrl');
}

/** A key prefix no other run or suite uses, so that runs sharing one Redis never see each other's counts. */
export function uniqueKeyPrefix(suite: string): string {
  return `countersign-test:${suite}:${randomBytes(6).toString('hex')}:`;
}

/**
 * Connects under `keyPrefix` and waits for Redis to answer; throws, failing the suite, when it does not
 * within `timeoutMs`.
 */
export async function openTestRedis(keyPrefix: string, timeoutMs = 5_000): Promise<SharedCounterConnection> {
  const url = testRedisUrl();
  const connection = openSharedCounterConnection(url, keyPrefix, () => {});
  try {
    await connection.ready(timeoutMs);
    await connection.redis.ping();
  } catch (error) {
    await connection.close();
    throw new Error(
      `Redis at ${new URL(url).host} cannot be reached (TEST_REDIS_URL); the shared-limit tests need it: ${String(error)}`,
    );
  }
  return connection;
}

/** Deletes every key under `keyPrefix`, so that a run leaves nothing behind. */
export async function deleteKeys(keyPrefix: string): Promise<void> {
  // Without a prefix of its own: SCAN answers keys as stored, and DEL must not prefix them again.
  const connection = openSharedCounterConnection(testRedisUrl(), '', () => {});
  try {
    await connection.ready(5_000);
    let cursor = '0';
    do {
      const [next, keys] = await connection.redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await connection.redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await connection.close();
  }
}
