/**
 * Attempt limits: consecutive failed authentications lock a payer for a period, repeated temporary
 * locks become a lock only the operator lifts, and a success resets the count. Pure: the store keeps
 * the state in the database (shared by every server process) and applies these functions under a lock.
 */

/** The attempt policy, from configuration. */
export interface AttemptPolicy {
  /** Consecutive failures that lock (PSD2 RTS Art. 4 allows at most 5). */
  readonly failuresBeforeLock: number;
  readonly lockMs: number;
  /** Temporary locks after which the lock becomes permanent. */
  readonly temporaryLocksBeforePermanent: number;
}

/** Failed approvals after which a payment fails. */
export const approvalFailuresBeforePaymentFails = 3;

/** What is recorded per claimed payer id. */
export interface AttemptState {
  readonly consecutiveFailures: number;
  readonly lockedUntilMs: number | null;
  readonly temporaryLocks: number;
  readonly lockedPermanently: boolean;
}

/** The state of an id never seen. */
export const freshAttemptState: AttemptState = Object.freeze({
  consecutiveFailures: 0,
  lockedUntilMs: null,
  temporaryLocks: 0,
  lockedPermanently: false,
});

/** True when authentications of this payer must be refused now, whatever they carry. */
export function isLocked(state: AttemptState, nowMs: number): boolean {
  return state.lockedPermanently || (state.lockedUntilMs !== null && nowMs < state.lockedUntilMs);
}

/** The state after one more failure, and whether this failure engaged a lock. */
export function afterFailure(
  state: AttemptState,
  nowMs: number,
  policy: AttemptPolicy,
): { state: AttemptState; locked: 'temporary' | 'permanent' | null } {
  const failures = state.consecutiveFailures + 1;
  if (failures < policy.failuresBeforeLock) {
    return { state: { ...state, consecutiveFailures: failures }, locked: null };
  }
  const temporaryLocks = state.temporaryLocks + 1;
  if (temporaryLocks >= policy.temporaryLocksBeforePermanent) {
    return {
      state: { consecutiveFailures: 0, lockedUntilMs: null, temporaryLocks, lockedPermanently: true },
      locked: 'permanent',
    };
  }
  return {
    state: {
      consecutiveFailures: 0,
      lockedUntilMs: nowMs + policy.lockMs,
      temporaryLocks,
      lockedPermanently: false,
    },
    locked: 'temporary',
  };
}

/** The state after a successful authentication: the consecutive count starts again. */
export function afterSuccess(state: AttemptState): AttemptState {
  return { ...state, consecutiveFailures: 0 };
}

/** The state after the operator unlocks: no lock, no count; the history of temporary locks is cleared. */
export function afterUnlock(): AttemptState {
  return freshAttemptState;
}
