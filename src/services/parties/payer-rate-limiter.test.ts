// Proves that the per-payer limiter lets the configured number of attempts through per window and payer, answers 429 with the seconds to wait, starts again in the next window, forgets the least recently seen payers first, counts a batch in one call, and refuses with 503 when its counter cannot answer.
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../domain/errors.js';
import {
  InProcessPayerAttemptCounter,
  type PayerAttempt,
  type PayerAttemptCounter,
  PayerRateLimiter,
} from './payer-rate-limiter.js';

const limit = { attemptsMax: 2, windowMs: 60_000, payersTrackedMax: 2 };
const limiter = () => new PayerRateLimiter(limit);

async function refusal(work: () => Promise<void>): Promise<CountersignError | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    if (error instanceof CountersignError) return error;
    throw error;
  }
}

describe('PayerRateLimiter', () => {
  it('refuses the attempt past the limit with retryAfterSeconds, per payer', async () => {
    const payers = limiter();
    await payers.attempt('alice', 0);
    await payers.attempt('alice', 1000);
    const refused = await refusal(() => payers.attempt('alice', 15_000));
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.details).toEqual({ retryAfterSeconds: 45 });
    expect(await refusal(() => payers.attempt('bob', 15_000))).toBeUndefined();
    expect(await refusal(() => payers.attempt('alice', 60_000))).toBeUndefined();
  });

  it('windows are aligned on the epoch, so that every server agrees where one starts', async () => {
    const payers = limiter();
    await payers.attempt('alice', 59_000);
    await payers.attempt('alice', 59_500);
    expect((await refusal(() => payers.attempt('alice', 59_900)))?.details).toEqual({
      retryAfterSeconds: 1,
    });
    // A new window at 60 s, although the first attempt was only a second ago.
    expect(await refusal(() => payers.attempt('alice', 60_000))).toBeUndefined();
  });

  it('forgets the least recently seen payer when it tracks too many', async () => {
    const payers = limiter();
    await payers.attempt('alice', 0);
    await payers.attempt('alice', 0);
    await payers.attempt('bob', 0);
    await payers.attempt('carol', 0);
    expect(await refusal(() => payers.attempt('alice', 1))).toBeUndefined();
  });

  it('counts a batch in one call and answers each attempt on its own', async () => {
    const calls: (readonly PayerAttempt[])[] = [];
    const inner = new InProcessPayerAttemptCounter(10);
    const counter: PayerAttemptCounter = {
      count: (attempts) => {
        calls.push(attempts);
        return inner.count(attempts);
      },
    };
    const payers = new PayerRateLimiter(limit, counter);
    const answers = await payers.attempts(['alice', 'alice', 'bob', 'alice'], 61_000);
    expect(answers.map((answer) => answer?.code)).toEqual([undefined, undefined, undefined, 'rate_limited']);
    expect(calls).toEqual([
      [
        { payerId: 'alice', windowStartMs: 60_000 },
        { payerId: 'alice', windowStartMs: 60_000 },
        { payerId: 'bob', windowStartMs: 60_000 },
        { payerId: 'alice', windowStartMs: 60_000 },
      ],
    ]);
    expect(await payers.attempts([], 61_000)).toEqual([]);
    expect(calls).toHaveLength(1);
  });

  it('fails closed: a counter that cannot answer refuses every attempt with 503 and Retry-After', async () => {
    const down: PayerAttemptCounter = { count: () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const payers = new PayerRateLimiter(limit, down);
    const refused = await refusal(() => payers.attempt('alice', 0));
    expect(refused?.code).toBe('service_unavailable');
    expect(refused?.status).toBe(503);
    expect(refused?.details).toEqual({ retryAfterSeconds: 1 });
    expect((await payers.attempts(['alice', 'bob'], 0)).map((answer) => answer?.code)).toEqual([
      'service_unavailable',
      'service_unavailable',
    ]);
  });

  it('refuses a limit that lets nothing through', () => {
    expect(() => new PayerRateLimiter({ attemptsMax: 0, windowMs: 1, payersTrackedMax: 1 })).toThrow(
      RangeError,
    );
  });
});
