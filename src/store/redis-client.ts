/**
 * The Redis connection that carries the counts every server shares (the per-address and per-payer
 * throttles). Opened by the composition root when `REDIS_URL` is set, closed on shutdown.
 *
 * Options chosen for counting, as `@fastify/rate-limit` recommends for its store: a call that cannot be
 * answered within `limits.sharedCounterTimeoutMs` (connecting included) fails instead of waiting for a
 * reconnection, and is retried at most once. A throttle that waits seconds on its counter is an outage of
 * every request it guards; failing fast lets each throttle apply its own rule for an unreachable counter
 * (docs/scaling.md). Every key carries the configured prefix, so that several platforms can share one Redis.
 */
import { Redis } from 'ioredis';
import { limits } from '../domain/limits.js';

/** An open shared-counter connection. */
export interface SharedCounterConnection {
  readonly redis: Redis;
  /** Waits until the first connection is made; rejects after `timeoutMs` (the client keeps retrying). */
  ready(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to `url` with every key under `keyPrefix`. `report` hears connection errors once per outage (not
 * on every reconnection attempt) and the recovery; the messages name the host and port, never the URL, so
 * that a password in it is never logged.
 */
export function openSharedCounterConnection(
  url: string,
  keyPrefix: string,
  report: (event: 'unreachable' | 'reachable', error?: Error) => void,
): SharedCounterConnection {
  const redis = new Redis(url, {
    keyPrefix,
    connectTimeout: limits.sharedCounterTimeoutMs,
    commandTimeout: limits.sharedCounterTimeoutMs,
    maxRetriesPerRequest: 1,
    // Reconnect quickly at first, then at the bound: a counter back up is used within it.
    retryStrategy: (times) =>
      Math.min(times * limits.sharedCounterReconnectDelayStepMs, limits.sharedCounterReconnectDelayMsMax),
    // No INFO round trip before the first command: the counters need nothing from it.
    enableReadyCheck: false,
  });
  let unreachable = false;
  redis.on('error', (error: Error) => {
    if (unreachable) return;
    unreachable = true;
    report('unreachable', error);
  });
  redis.on('ready', () => {
    if (!unreachable) return;
    unreachable = false;
    report('reachable');
  });
  return {
    redis,
    ready: (timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        if (redis.status === 'ready') return resolve();
        const timer = setTimeout(() => {
          redis.off('ready', onReady);
          reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        redis.once('ready', onReady);
      }),
    close: async () => {
      // QUIT lets pending counts finish; a connection that is down is simply dropped.
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
