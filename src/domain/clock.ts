/**
 * Time as the platform sees it. Services take a Clock as an argument so that tests can move time
 * (code expiry, lock periods, session timeouts) without sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The wall clock. */
export const systemClock: Clock = Object.freeze({ nowMs: () => Date.now() });

/** A clock that moves only when told to (tests). */
export class ManualClock implements Clock {
  constructor(private currentMs = Date.UTC(2026, 0, 1)) {}

  nowMs(): number {
    return this.currentMs;
  }

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.currentMs += ms;
  }
}
