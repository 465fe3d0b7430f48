/**
 * The per-payer attempt counter in Redis, shared by every server: one key per payer and window, counted
 * with INCR and given its expiry with PEXPIRE in one Lua script, so that the two never come apart (a key
 * without expiry would outlive its window forever). A batch of attempts is one pipelined round trip.
 * Keys hold a SHA-256 of the claimed payer id, not the id: bounded in length whatever is claimed, and the
 * shared store learns no payer ids.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PayerAttempt, PayerAttemptCounter } from '../services/parties/payer-rate-limiter.js';

const countAttemptScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
`;

type CountingRedis = Redis & {
  countersignCountAttempt(key: string, windowMs: number): Promise<number>;
};

/** The key of one payer's window, under the connection's prefix. */
export function payerAttemptKey(attempt: PayerAttempt): string {
  const payer = createHash('sha256').update(attempt.payerId, 'utf8').digest('base64url');
  return `payer:${attempt.windowStartMs}:${payer}`;
}

/** Counts attempts in Redis through `redis` (opened by `openSharedCounterConnection`). */
export class RedisPayerAttemptCounter implements PayerAttemptCounter {
  private readonly redis: CountingRedis;

  constructor(redis: Redis) {
    if (!('countersignCountAttempt' in redis)) {
      redis.defineCommand('countersignCountAttempt', { numberOfKeys: 1, lua: countAttemptScript });
    }
    this.redis = redis as CountingRedis;
  }

  async count(attempts: readonly PayerAttempt[], windowMs: number): Promise<number[]> {
    if (attempts.length === 1) {
      return [await this.redis.countersignCountAttempt(payerAttemptKey(attempts[0]!), windowMs)];
    }
    const pipeline = this.redis.pipeline() as unknown as {
      countersignCountAttempt(key: string, windowMs: number): void;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    for (const attempt of attempts) pipeline.countersignCountAttempt(payerAttemptKey(attempt), windowMs);
    const answers = await pipeline.exec();
    if (answers === null) throw new Error('the attempt counter pipeline was discarded');
    return answers.map(([error, count]) => {
      if (error !== null) throw error;
      return Number(count);
    });
  }
}
