// Proves the attempt rules: reservations cap the evaluations in flight at the free slots, an outcome settled while locked counts nothing, locks double up to the cap and a success starts them again, leases free the slots of a crashed process, self-unlock is bounded per lock, and — over random interleavings — no window yields both a success and a lock.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptPolicy,
  type AttemptState,
  afterBlock,
  afterUnlock,
  freshAttemptState,
  isLocked,
  lockedAnswerDetails,
  nextLockMs,
  reserveAttempt,
  reserveSelfUnlock,
  settleAttempt,
  settleSelfUnlock,
} from './attempts.js';

const policy: AttemptPolicy = {
  failuresBeforeLock: 5,
  lockMs: 1000,
  lockMsMax: 20_000,
  reservationLeaseMs: 30_000,
};
const t0 = 1_000_000;

/** Reserves `count` evaluations in a row; returns the state and how many were granted. */
function reserveMany(state: AttemptState, count: number, nowMs = t0) {
  let granted = 0;
  for (let i = 0; i < count; i++) {
    const reservation = reserveAttempt(state, nowMs, policy);
    if (reservation.granted) granted += 1;
    state = reservation.state;
  }
  return { state, granted };
}

describe('reservations', () => {
  it('grant at most the free slots: 5 minus the failures counted, minus those in flight', () => {
    expect(reserveMany(freshAttemptState, 30).granted).toBe(5);
    const twoFailed = { ...freshAttemptState, consecutiveFailures: 2 };
    expect(reserveMany(twoFailed, 30).granted).toBe(3);
  });

  it('refuse every evaluation while locked or blocked, and change nothing', () => {
    const locked = { ...freshAttemptState, lockedUntilMs: t0 + 1 };
    expect(reserveAttempt(locked, t0, policy)).toEqual({ granted: false, state: locked });
    const blocked = afterBlock(freshAttemptState);
    expect(reserveAttempt(blocked, t0 + 10 ** 9, policy)).toEqual({ granted: false, state: blocked });
  });

  it('free the slots of a process that never settled once their lease ends', () => {
    const { state } = reserveMany(freshAttemptState, 5);
    expect(reserveAttempt(state, t0 + policy.reservationLeaseMs - 1, policy).granted).toBe(false);
    expect(reserveAttempt(state, t0 + policy.reservationLeaseMs, policy).granted).toBe(true);
  });
});

describe('settlements', () => {
  it('lock on the fifth consecutive failure, for lockMs, and count the lock', () => {
    let state = freshAttemptState;
    for (let i = 1; i <= 5; i++) {
      const reservation = reserveAttempt(state, t0, policy);
      expect(reservation.granted).toBe(true);
      const settled = settleAttempt(reservation.state, false, t0, policy);
      expect(settled.verdict).toBe('failed');
      expect(settled.consecutiveFailures).toBe(i);
      expect(settled.lockedUntilMs).toBe(i === 5 ? t0 + policy.lockMs : null);
      state = settled.state;
    }
    expect(state).toMatchObject({ consecutiveFailures: 0, reserved: 0, consecutiveLocks: 1 });
    expect(isLocked(state, t0 + policy.lockMs - 1)).toBe(true);
    expect(isLocked(state, t0 + policy.lockMs)).toBe(false);
  });

  it('count nothing for an outcome that arrives while locked, even a right one', () => {
    const reservation = reserveAttempt(freshAttemptState, t0, policy);
    const lockedMeanwhile: AttemptState = {
      ...reservation.state,
      lockedUntilMs: t0 + 500,
      consecutiveLocks: 1,
    };
    for (const matched of [true, false]) {
      const settled = settleAttempt(lockedMeanwhile, matched, t0 + 1, policy);
      expect(settled.verdict).toBe('locked');
      expect(settled.state).toEqual({ ...lockedMeanwhile, reserved: 0, reservedUntilMs: null });
    }
  });

  it('double each consecutive lock up to the cap; a success starts again', () => {
    const durations = [0, 1, 2, 3, 4, 5, 6].map((locks) =>
      nextLockMs({ ...freshAttemptState, consecutiveLocks: locks }, policy),
    );
    expect(durations).toEqual([1000, 2000, 4000, 8000, 16_000, 20_000, 20_000]);
    expect(nextLockMs({ ...freshAttemptState, consecutiveLocks: 10_000 }, policy)).toBe(policy.lockMsMax);
    const escalated: AttemptState = { ...freshAttemptState, consecutiveFailures: 3, consecutiveLocks: 4 };
    const success = settleAttempt(reserveAttempt(escalated, t0, policy).state, true, t0, policy);
    expect(success.verdict).toBe('succeeded');
    expect(success.state).toMatchObject({ consecutiveFailures: 0, consecutiveLocks: 0, reserved: 0 });
  });

  it('tell when a lock ends, and nothing of a block', () => {
    expect(lockedAnswerDetails({ ...freshAttemptState, lockedUntilMs: t0 + 1500 }, t0)).toEqual({
      lockedUntil: new Date(t0 + 1500).toISOString(),
      retryAfterSeconds: 2,
    });
    expect(lockedAnswerDetails(afterBlock(freshAttemptState), t0)).toEqual({});
    expect(lockedAnswerDetails(freshAttemptState, t0)).toEqual({ retryAfterSeconds: 1 });
  });

  it('lift a lock, the escalation and a block on the operator unlock', () => {
    const state = afterBlock({
      ...freshAttemptState,
      lockedUntilMs: t0 + 5,
      consecutiveLocks: 3,
      consecutiveFailures: 2,
    });
    expect(afterUnlock(state)).toMatchObject({
      blocked: false,
      lockedUntilMs: null,
      consecutiveLocks: 0,
      consecutiveFailures: 0,
    });
  });
});

describe('self-unlock', () => {
  const locked: AttemptState = {
    ...freshAttemptState,
    lockedUntilMs: t0 + policy.lockMs,
    consecutiveLocks: 1,
  };

  it('lifts the lock with the right code, never while blocked', () => {
    const reservation = reserveSelfUnlock(locked, t0, policy);
    expect(reservation.granted).toBe(true);
    const settled = settleSelfUnlock(reservation.state, true, t0, policy);
    expect(settled.verdict).toBe('succeeded');
    expect(isLocked(settled.state, t0)).toBe(false);
    expect(settled.state.consecutiveLocks).toBe(0);
    expect(reserveSelfUnlock(afterBlock(locked), t0, policy).granted).toBe(false);
  });

  it('compares at most 5 codes per lock, however many are sent; the fifth wrong one doubles the lock', () => {
    let state = locked;
    let compared = 0;
    for (let i = 0; i < 50; i++) {
      const reservation = reserveSelfUnlock(state, t0, policy);
      if (!reservation.granted) continue;
      compared += 1;
      state = settleSelfUnlock(reservation.state, false, t0, policy).state;
    }
    expect(compared).toBe(5);
    expect(state).toMatchObject({ lockedUntilMs: t0 + 2 * policy.lockMs, consecutiveLocks: 2 });
    // After that lock ends, the count starts again for every kind of attempt.
    expect(reserveMany(state, 30, t0 + 2 * policy.lockMs).granted).toBe(5);
  });
});

/**
 * A random interleaving of evaluations: each step reserves a new one, settles one in flight (right or
 * wrong), or lets time pass. The model checks what must hold after every step.
 */
type Step =
  | { readonly kind: 'reserve' }
  | { readonly kind: 'settle'; readonly which: number; readonly matched: boolean }
  | { readonly kind: 'wait'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'reserve' as const }),
  fc.record({ kind: fc.constant('settle' as const), which: fc.nat(20), matched: fc.boolean() }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 3000 }) }),
);

describe('over random interleavings', () => {
  it('never evaluates more than the free slots, locks only after 5 failures in a row, and never yields a success and a lock in one window', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        let state = freshAttemptState;
        let nowMs = t0;
        let inFlight = 0;
        // Failures answered since the last success or lock: the current window. A lock engages only when
        // five of them came in a row with no success between, so a success and a lock never share a window.
        let failuresInWindow = 0;
        for (const s of steps) {
          if (s.kind === 'wait') {
            nowMs += s.ms;
            continue;
          }
          if (s.kind === 'reserve') {
            const reservation = reserveAttempt(state, nowMs, policy);
            if (reservation.granted) {
              expect(isLocked(state, nowMs)).toBe(false);
              inFlight += 1;
            }
            state = reservation.state;
          } else if (inFlight > 0) {
            // Leases here (30 s) outlast every run, so a reservation in flight always holds its slot.
            inFlight -= 1;
            const settled = settleAttempt(state, s.matched, nowMs, policy);
            state = settled.state;
            if (settled.verdict === 'succeeded') {
              failuresInWindow = 0;
            } else if (settled.verdict === 'failed') {
              failuresInWindow += 1;
              if (settled.lockedUntilMs !== null) {
                expect(failuresInWindow).toBe(policy.failuresBeforeLock);
                failuresInWindow = 0;
              }
            }
          }
          expect(state.reserved).toBe(inFlight);
          expect(state.consecutiveFailures + state.reserved).toBeLessThanOrEqual(policy.failuresBeforeLock);
          expect(failuresInWindow).toBeLessThan(policy.failuresBeforeLock);
        }
      }),
      { numRuns: 300 },
    );
  });
});
