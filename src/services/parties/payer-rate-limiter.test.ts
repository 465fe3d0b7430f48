// Proves that the per-payer limiter lets the configured number of attempts through per window and payer, answers 429 with the seconds to wait, starts again in the next window, and forgets the least recently seen payers first.
import { describe, expect, it } from 'vitest';
import { CountersignError } from '../../domain/errors.js';
import { PayerRateLimiter } from './payer-rate-limiter.js';

const limiter = () => new PayerRateLimiter({ attemptsMax: 2, windowMs: 60_000, payersTrackedMax: 2 });

function refusal(work: () => void): CountersignError | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    if (error instanceof CountersignError) return error;
    throw error;
  }
}

describe('PayerRateLimiter', () => {
  it('refuses the attempt past the limit with retryAfterSeconds, per payer', () => {
    const limit = limiter();
    limit.attempt('alice', 0);
    limit.attempt('alice', 1000);
    const refused = refusal(() => limit.attempt('alice', 15_000));
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.details).toEqual({ retryAfterSeconds: 45 });
    expect(refusal(() => limit.attempt('bob', 15_000))).toBeUndefined();
    expect(refusal(() => limit.attempt('alice', 60_000))).toBeUndefined();
  });

  it('forgets the least recently seen payer when it tracks too many', () => {
    const limit = limiter();
    limit.attempt('alice', 0);
    limit.attempt('alice', 0);
    limit.attempt('bob', 0);
    limit.attempt('carol', 0);
    expect(refusal(() => limit.attempt('alice', 1))).toBeUndefined();
  });

  it('refuses a limit that lets nothing through', () => {
    expect(() => new PayerRateLimiter({ attemptsMax: 0, windowMs: 1, payersTrackedMax: 1 })).toThrow(
      RangeError,
    );
  });
});
