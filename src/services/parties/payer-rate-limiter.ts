/**
 * A per-payer throttle on authentication attempts (password checks and code approvals), counted by the
 * payer id as claimed, whatever address the attempts come from. The attempt locks in the database bound
 * how many guesses can ever be evaluated; this limit bounds how fast, so that an attacker spread over many
 * addresses cannot burn through a payer's attempts, or the server's password-hashing time, in a burst.
 *
 * It lives in the memory of one process (a fixed window per payer id, in a map bounded by
 * `limits.payerRateLimitPayersTrackedMax`): with several servers, each applies it on its own. A refused
 * attempt is not counted as a failure and answers the same for ids that exist and ids that do not.
 */
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';

/** The limit: `attemptsMax` per `windowMs` for each payer id, tracking at most `payersTrackedMax` ids. */
export interface PayerRateLimit {
  readonly attemptsMax: number;
  readonly windowMs: number;
  readonly payersTrackedMax: number;
}

interface Window {
  startedAtMs: number;
  attempts: number;
}

/** Counts attempts per payer id in fixed windows. */
export class PayerRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly limit: PayerRateLimit) {
    if (!(limit.attemptsMax >= 1 && limit.windowMs >= 1 && limit.payersTrackedMax >= 1)) {
      throw new RangeError('a payer rate limit needs positive attempts, window and tracked ids');
    }
  }

  /**
   * Counts one attempt for `payerId` at `nowMs`; throws 429 `rate_limited` with `retryAfterSeconds` (also
   * sent as the Retry-After header) when the payer's window is already full.
   */
  attempt(payerId: string, nowMs: number): void {
    let window = this.windows.get(payerId);
    if (
      window === undefined ||
      nowMs - window.startedAtMs >= this.limit.windowMs ||
      nowMs < window.startedAtMs
    ) {
      window = { startedAtMs: nowMs, attempts: 0 };
    }
    // Re-inserting keeps the map in least-recently-seen order, so the oldest entry is the one forgotten.
    this.windows.delete(payerId);
    this.windows.set(payerId, window);
    this.forgetOldest();
    if (window.attempts >= this.limit.attemptsMax) {
      const retryAfterSeconds = Math.max(
        1,
        Math.ceil((window.startedAtMs + this.limit.windowMs - nowMs) / 1000),
      );
      throw new CountersignError('rate_limited', {
        message: 'Too many attempts for this payer; retry after the time given in Retry-After.',
        details: { retryAfterSeconds },
      });
    }
    window.attempts += 1;
  }

  private forgetOldest(): void {
    while (this.windows.size > this.limit.payersTrackedMax) {
      const oldest = this.windows.keys().next();
      if (oldest.done === true) return;
      this.windows.delete(oldest.value);
    }
  }
}

/** The limit from configuration (`RATE_LIMIT_PER_PAYER` attempts a minute), the rest from `limits`. */
export function payerRateLimit(attemptsPerWindow: number = limits.payerAttemptsPerWindowMax): PayerRateLimit {
  return {
    attemptsMax: attemptsPerWindow,
    windowMs: limits.payerRateLimitWindowMs,
    payersTrackedMax: limits.payerRateLimitPayersTrackedMax,
  };
}
