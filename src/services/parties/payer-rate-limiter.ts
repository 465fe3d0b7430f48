/**
 * A per-payer throttle on authentication attempts (password checks and code approvals), counted by the
 * payer id as claimed, whatever address the attempts come from. The attempt locks in the database bound
 * how many guesses can ever be evaluated; this limit bounds how fast, so that an attacker spread over many
 * addresses cannot burn through a payer's attempts, or the server's password-hashing time, in a burst.
 *
 * The rule lives here alone: fixed windows of `windowMs` aligned on the epoch, every attempt counted
 * (refused ones too), an attempt refused once its window's count passes `attemptsMax`. Where the counts are
 * kept is a port, `PayerAttemptCounter`: in this process's memory (`InProcessPayerAttemptCounter`, each
 * server counting alone), or in a store every server shares (Redis, `src/store/redis-payer-attempt-counter.ts`),
 * so that N servers allow the limit once, not N times. A refused attempt is not counted as a failure and
 * answers the same for ids that exist and ids that do not.
 *
 * When the shared counter cannot answer, the attempt is refused with 503 `service_unavailable` (fail
 * closed): the throttle guards authentication, and letting attempts through unthrottled whenever the
 * counter is down would hand an attacker the burst the throttle exists to stop (docs/security.md).
 */
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';

/** The limit: `attemptsMax` per `windowMs` for each payer id, tracking at most `payersTrackedMax` ids. */
export interface PayerRateLimit {
  readonly attemptsMax: number;
  readonly windowMs: number;
  /** Bound of the in-process counter's memory; a shared counter's entries expire with their window. */
  readonly payersTrackedMax: number;
}

/** One attempt to count: the payer id as claimed, and the start of the window it falls in. */
export interface PayerAttempt {
  readonly payerId: string;
  readonly windowStartMs: number;
}

/**
 * Where attempts are counted. `count` adds one to each attempt's window (an id named twice counts twice)
 * and answers, in order, each window's count including it; windows end `windowMs` after their start. It
 * rejects when the counts cannot be kept (a shared store out of reach): the limiter then fails closed.
 */
export interface PayerAttemptCounter {
  count(attempts: readonly PayerAttempt[], windowMs: number): Promise<number[]>;
}

/** The throttle: the rule over a counter. */
export class PayerRateLimiter {
  constructor(
    private readonly limit: PayerRateLimit,
    private readonly counter: PayerAttemptCounter = new InProcessPayerAttemptCounter(limit.payersTrackedMax),
  ) {
    if (!(limit.attemptsMax >= 1 && limit.windowMs >= 1 && limit.payersTrackedMax >= 1)) {
      throw new RangeError('a payer rate limit needs positive attempts, window and tracked ids');
    }
  }

  /**
   * Counts one attempt for `payerId` at `nowMs`; throws 429 `rate_limited` with `retryAfterSeconds` (also
   * sent as the Retry-After header) when the payer's window is already full, and 503 `service_unavailable`
   * when the counter cannot be reached.
   */
  async attempt(payerId: string, nowMs: number): Promise<void> {
    const [refusal] = await this.attempts([payerId], nowMs);
    if (refusal !== undefined) throw refusal;
  }

  /**
   * Counts one attempt for each of `payerIds` at `nowMs`, in one call to the counter; answers, in order,
   * the refusal of each (undefined: let through). Never throws for a refusal, so that a batch of approvals
   * answers each of its operations on its own.
   */
  async attempts(payerIds: readonly string[], nowMs: number): Promise<(CountersignError | undefined)[]> {
    if (payerIds.length === 0) return [];
    const windowStartMs =
      nowMs - (((nowMs % this.limit.windowMs) + this.limit.windowMs) % this.limit.windowMs);
    let counts: number[];
    try {
      counts = await this.counter.count(
        payerIds.map((payerId) => ({ payerId, windowStartMs })),
        this.limit.windowMs,
      );
    } catch (error) {
      const unavailable = new CountersignError('service_unavailable', {
        message: 'Authentication is paused while the attempt counter cannot be reached; retry shortly.',
        details: { retryAfterSeconds: limits.payerRateLimitUnavailableRetryAfterSeconds },
        cause: error,
      });
      return payerIds.map(() => unavailable);
    }
    if (counts.length !== payerIds.length) {
      throw new Error(
        `invariant: the attempt counter answered ${counts.length} counts for ${payerIds.length}`,
      );
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStartMs + this.limit.windowMs - nowMs) / 1000));
    return counts.map((count) =>
      count > this.limit.attemptsMax
        ? new CountersignError('rate_limited', {
            message: 'Too many attempts for this payer; retry after the time given in Retry-After.',
            details: { retryAfterSeconds },
          })
        : undefined,
    );
  }
}

/**
 * Counts in this process's memory: one window per payer id, in a map bounded by `payersTrackedMax` that
 * forgets the least recently seen id first. With several servers, each counts on its own.
 */
export class InProcessPayerAttemptCounter implements PayerAttemptCounter {
  private readonly windows = new Map<string, { windowStartMs: number; attempts: number }>();

  constructor(private readonly payersTrackedMax: number) {}

  async count(attempts: readonly PayerAttempt[]): Promise<number[]> {
    return attempts.map(({ payerId, windowStartMs }) => {
      const seen = this.windows.get(payerId);
      const window =
        seen === undefined || seen.windowStartMs !== windowStartMs ? { windowStartMs, attempts: 0 } : seen;
      window.attempts += 1;
      // Re-inserting keeps the map in least-recently-seen order, so the oldest entry is the one forgotten.
      this.windows.delete(payerId);
      this.windows.set(payerId, window);
      while (this.windows.size > this.payersTrackedMax) {
        const oldest = this.windows.keys().next();
        if (oldest.done === true) break;
        this.windows.delete(oldest.value);
      }
      return window.attempts;
    });
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
