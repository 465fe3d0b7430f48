/**
 * Attempt limits, pure. Every evaluation of a payer's secret (a password, a second code, a first code with
 * the verification code, a merchant's redemption, a terminal's signed approval or self-unlock) follows one
 * protocol over the payer's attempt state, which the store keeps in the database (shared by every server
 * process) and changes only under the row's lock:
 *
 * 1. `reserveAttempt` — before anything is evaluated, a slot is reserved. It is refused while the payer is
 *    locked or blocked, and while the failures counted plus the evaluations already reserved reach the
 *    limit: however many requests arrive at once, at most `failuresBeforeLock − consecutiveFailures`
 *    evaluations run. No reservation, no evaluation.
 * 2. the caller evaluates the secret (an Argon2 check outside any transaction, or a constant-time hash
 *    comparison inside the transaction that holds the row);
 * 3. `settleAttempt` — the outcome is recorded and only then answered. A failure counts; the one that
 *    reaches the limit locks the payer. An outcome that arrives while the payer is locked counts as nothing
 *    and is answered `locked`, even a correct one. A success resets the count and the escalation.
 *
 * Hence a success and a lock can never come out of the same window: the lock engages only when the count
 * reaches the limit, which needs every reserved slot of the window to have failed.
 *
 * Locks escalate instead of becoming permanent, so that nobody can lock a payer for good from outside:
 * the n-th consecutive lock lasts `lockMs × 2^(n−1)`, capped at `lockMsMax`; a successful authentication
 * starts the escalation again. Only the operator blocks a payer indefinitely (`blocked`).
 *
 * A reservation is a lease (`reservationLeaseMs`): a process that dies between reserving and settling
 * leaves a slot that frees itself when the lease ends. Nothing was answered for it, so forgetting it reveals
 * nothing; the lease is far longer than any evaluation takes (docs/security.md).
 */

/** The attempt policy, from configuration. */
export interface AttemptPolicy {
  /** Consecutive failures that lock (PSD2 RTS Art. 4 allows at most 5). */
  readonly failuresBeforeLock: number;
  /** Length of the first lock; each consecutive lock doubles it. */
  readonly lockMs: number;
  /** Longest lock the escalation reaches. */
  readonly lockMsMax: number;
  /** How long a reserved evaluation holds its slot if it is never settled. */
  readonly reservationLeaseMs: number;
}

/** Failed approvals after which a payment fails. */
export const approvalFailuresBeforePaymentFails = 3;

/** What is recorded per claimed payer id. */
export interface AttemptState {
  /** Failed evaluations since the last success or lock. */
  readonly consecutiveFailures: number;
  /** Evaluations reserved and not yet settled (valid until `reservedUntilMs`). */
  readonly reserved: number;
  readonly reservedUntilMs: number | null;
  /** End of the current (or last) lock. */
  readonly lockedUntilMs: number | null;
  /** Locks since the last success: the next lock lasts `lockMs × 2^consecutiveLocks`. */
  readonly consecutiveLocks: number;
  /** Blocked by the operator: locked until the operator unblocks. */
  readonly blocked: boolean;
}

/** The state of an id never seen. */
export const freshAttemptState: AttemptState = Object.freeze({
  consecutiveFailures: 0,
  reserved: 0,
  reservedUntilMs: null,
  lockedUntilMs: null,
  consecutiveLocks: 0,
  blocked: false,
});

/** True when authentications of this payer must be refused now, whatever they carry. */
export function isLocked(state: AttemptState, nowMs: number): boolean {
  return state.blocked || (state.lockedUntilMs !== null && nowMs < state.lockedUntilMs);
}

/** When the current lock ends: null when not locked, `'blocked'` while the operator blocks the payer. */
export function lockEnd(state: AttemptState, nowMs: number): number | 'blocked' | null {
  if (state.blocked) return 'blocked';
  return state.lockedUntilMs !== null && nowMs < state.lockedUntilMs ? state.lockedUntilMs : null;
}

/**
 * What a `payer_locked` answer tells: when the lock ends (and so when to retry), or, when every attempt
 * slot is taken by evaluations in flight, to retry in a second. An operator's block tells no end. The same
 * for a claimed id that does not exist: its attempts are counted and locked alike, so this reveals nothing.
 */
export function lockedAnswerDetails(
  state: AttemptState,
  nowMs: number,
): { lockedUntil?: string; retryAfterSeconds?: number } {
  const end = lockEnd(state, nowMs);
  if (end === 'blocked') return {};
  if (end === null) return { retryAfterSeconds: 1 };
  return {
    lockedUntil: new Date(end).toISOString(),
    retryAfterSeconds: Math.max(1, Math.ceil((end - nowMs) / 1000)),
  };
}

/**
 * Failures that count now. Only a lock engaged by failed self-unlocks leaves the count at the limit (so that
 * no further self-unlock is tried until it ends); once that lock ends, the count starts again.
 */
function countedFailures(state: AttemptState, nowMs: number, policy: AttemptPolicy): number {
  return state.consecutiveFailures >= policy.failuresBeforeLock && !isLocked(state, nowMs)
    ? 0
    : state.consecutiveFailures;
}

/** True when two states record the same: a settlement that changed nothing need not be written. */
export function sameAttemptState(a: AttemptState, b: AttemptState): boolean {
  return (
    a.consecutiveFailures === b.consecutiveFailures &&
    a.reserved === b.reserved &&
    a.reservedUntilMs === b.reservedUntilMs &&
    a.lockedUntilMs === b.lockedUntilMs &&
    a.consecutiveLocks === b.consecutiveLocks &&
    a.blocked === b.blocked
  );
}

/** Reservations whose lease has not ended. */
function liveReservations(state: AttemptState, nowMs: number): number {
  return state.reservedUntilMs !== null && nowMs < state.reservedUntilMs ? state.reserved : 0;
}

/** Length of the lock that the next lock engages. */
export function nextLockMs(state: AttemptState, policy: AttemptPolicy): number {
  // 2^k overflows nothing below k = 1000; the cap is reached long before.
  const doublings = Math.min(state.consecutiveLocks, 40);
  return Math.min(policy.lockMs * 2 ** doublings, policy.lockMsMax);
}

/** A reservation: granted (with the state that records it) or refused (state unchanged). */
export type Reservation =
  | { readonly granted: true; readonly state: AttemptState }
  | { readonly granted: false; readonly state: AttemptState };

/**
 * Reserves one evaluation. Refused while locked or blocked, and while the failures counted and the
 * evaluations in flight already reach the limit. A refused attempt counts as nothing.
 */
export function reserveAttempt(state: AttemptState, nowMs: number, policy: AttemptPolicy): Reservation {
  const reserved = liveReservations(state, nowMs);
  const failures = countedFailures(state, nowMs, policy);
  if (isLocked(state, nowMs) || failures + reserved >= policy.failuresBeforeLock) {
    return { granted: false, state };
  }
  return {
    granted: true,
    state: {
      ...state,
      consecutiveFailures: failures,
      reserved: reserved + 1,
      reservedUntilMs: Math.max(state.reservedUntilMs ?? 0, nowMs + policy.reservationLeaseMs),
    },
  };
}

/** How a settled evaluation is answered: as evaluated, or `locked` when the payer locked meanwhile. */
export type AttemptVerdict = 'succeeded' | 'failed' | 'locked';

/** The state after settling, the verdict, and the lock this settlement engaged (its end), if any. */
export interface Settlement {
  readonly state: AttemptState;
  readonly verdict: AttemptVerdict;
  readonly lockedUntilMs: number | null;
  /** The failure count the settlement reached (for the audit log); 0 after a success. */
  readonly consecutiveFailures: number;
}

/** Records the outcome of a reserved evaluation (`matched`: the secret was right). */
export function settleAttempt(
  state: AttemptState,
  matched: boolean,
  nowMs: number,
  policy: AttemptPolicy,
): Settlement {
  const reserved = Math.max(0, liveReservations(state, nowMs) - 1);
  const released: AttemptState = {
    ...state,
    reserved,
    reservedUntilMs: reserved === 0 ? null : state.reservedUntilMs,
  };
  if (isLocked(state, nowMs)) {
    return { state: released, verdict: 'locked', lockedUntilMs: null, consecutiveFailures: 0 };
  }
  if (matched) {
    return {
      state: { ...released, consecutiveFailures: 0, consecutiveLocks: 0 },
      verdict: 'succeeded',
      lockedUntilMs: null,
      consecutiveFailures: 0,
    };
  }
  const failures = countedFailures(state, nowMs, policy) + 1;
  if (failures < policy.failuresBeforeLock) {
    return {
      state: { ...released, consecutiveFailures: failures },
      verdict: 'failed',
      lockedUntilMs: null,
      consecutiveFailures: failures,
    };
  }
  const lockedUntilMs = nowMs + nextLockMs(state, policy);
  return {
    state: {
      ...released,
      consecutiveFailures: 0,
      lockedUntilMs,
      consecutiveLocks: state.consecutiveLocks + 1,
    },
    verdict: 'failed',
    lockedUntilMs,
    consecutiveFailures: failures,
  };
}

/** One evaluation reserved, run and settled at once: for checks made inside the transaction that holds the row. */
export type ImmediateAttempt =
  | { readonly reserved: false; readonly state: AttemptState }
  | ({ readonly reserved: true } & Settlement);

/**
 * Reserves, evaluates and settles in one step. `evaluate` is called only when the reservation is granted:
 * a secret is never compared for a locked payer.
 */
export function attemptNow(
  state: AttemptState,
  nowMs: number,
  policy: AttemptPolicy,
  evaluate: () => boolean,
): ImmediateAttempt {
  const reservation = reserveAttempt(state, nowMs, policy);
  if (!reservation.granted) return { reserved: false, state };
  return { reserved: true, ...settleAttempt(reservation.state, evaluate(), nowMs, policy) };
}

/**
 * Reserves a self-unlock by the payer from an enrolled second terminal (possession) with the verification
 * code (knowledge). Allowed while temporarily locked (that is its purpose), never while blocked by the
 * operator; it is an attempt like any other, bounded by the same count and reservations.
 */
export function reserveSelfUnlock(state: AttemptState, nowMs: number, policy: AttemptPolicy): Reservation {
  if (state.blocked) return { granted: false, state };
  const reserved = liveReservations(state, nowMs);
  if (countedFailures(state, nowMs, policy) + reserved >= policy.failuresBeforeLock) {
    return { granted: false, state };
  }
  return {
    granted: true,
    state: {
      ...state,
      reserved: reserved + 1,
      reservedUntilMs: Math.max(state.reservedUntilMs ?? 0, nowMs + policy.reservationLeaseMs),
    },
  };
}

/**
 * Settles a self-unlock. Right: the lock ends and the count and escalation start again. Wrong: a failure
 * that counts even while locked; the one that reaches the limit engages the next, longer lock from now and
 * leaves the count at the limit, so that no self-unlock is tried again until that lock ends: at most
 * `failuresBeforeLock` verification codes are compared per lock, however many are sent.
 */
export function settleSelfUnlock(
  state: AttemptState,
  matched: boolean,
  nowMs: number,
  policy: AttemptPolicy,
): Settlement {
  const unlocked: AttemptState = { ...state, lockedUntilMs: null };
  if (matched) {
    const settled = settleAttempt(unlocked, true, nowMs, policy);
    return { ...settled, state: { ...settled.state, lockedUntilMs: null } };
  }
  const settled = settleAttempt(unlocked, false, nowMs, policy);
  // Still locked until the old lock ends, unless this failure engaged a longer one.
  const lockedUntilMs = settled.lockedUntilMs ?? state.lockedUntilMs;
  const consecutiveFailures =
    settled.lockedUntilMs === null ? settled.state.consecutiveFailures : settled.consecutiveFailures;
  return { ...settled, state: { ...settled.state, lockedUntilMs, consecutiveFailures } };
}

/** The state after the operator unlocks: no lock, no count, no escalation, no block. */
export function afterUnlock(state: AttemptState): AttemptState {
  return { ...state, consecutiveFailures: 0, lockedUntilMs: null, consecutiveLocks: 0, blocked: false };
}

/** The state after the operator blocks: locked until the operator unblocks. */
export function afterBlock(state: AttemptState): AttemptState {
  return { ...state, blocked: true };
}
