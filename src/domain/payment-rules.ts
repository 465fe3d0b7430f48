/**
 * The payment rulebook, pure: given the state a batch of payment operations touches (its payments and
 * their payers' attempt states, locked by the executor) and the operations in arrival order, decide each
 * operation's answer and the batch's effects. There is no other implementation of these rules: a payment
 * created, approved, canceled or expired alone is a batch of one.
 *
 * Two steps, because the ledger decides holds on its own locked rows:
 * 1. `decidePayments` walks the operations in order over an in-memory copy of the state. Approvals follow
 *    the attempt protocol (`attempts.ts`): the payer's slot is reserved before the codes are compared, a
 *    wrong code counts against the payment (3 fail it) and the payer (5 in a row lock them), and a code
 *    that arrives after a lock or after its payment failed is refused without being compared. It emits the
 *    ledger transfers (holds, posts, voids, expiries) in arrival order.
 * 2. `concludeCreations` reads the ledger's answers to the holds: a hold refused for funds answers
 *    `insufficient_funds` and creates nothing.
 *
 * The executor (`services/payments/payment-executor.ts`) loads, locks and writes; it never decides.
 */

import {
  type AttemptPolicy,
  type AttemptState,
  approvalFailuresBeforePaymentFails,
  attemptNow,
  lockedAnswerDetails,
  sameAttemptState,
} from './attempts.js';
import type { TransferRequest, TransferResult } from './ledger.js';
import type { Metadata } from './metadata.js';
import type { PasskeyAssertion } from './passkey.js';
import type { DeliverTo, Payment, PaymentStatus } from './payment.js';

/**
 * The codes an approval carries: embodiment 1 (a second code), embodiment 2 (first + verification code), or
 * embodiment 1 with a passkey as second terminal (its assertion over the payment's challenge is the second code).
 */
export type Approval =
  | { readonly secondCode: string }
  | { readonly firstCode: string; readonly verificationCode: string }
  | { readonly passkey: PasskeyAssertion };

/** A payment with the keyed hashes that approve it, as locked by the executor. */
export interface LockedPayment {
  readonly payment: Payment;
  readonly firstCodeHash: string;
  /** Second codes of the terminals active now (a revoked terminal no longer approves). */
  readonly secondCodeHashes: readonly string[];
  /** The payer's verification code, sealed: opened only to check embodiment 2. */
  readonly verificationCodeSealed: string;
}

/** One payment operation, as the executor hands it to the rules. */
export type PaymentOperation =
  | {
      readonly kind: 'create';
      /** The payment to create (id derived from the idempotency key, or new), already timed. */
      readonly payment: Payment;
    }
  | { readonly kind: 'approve'; readonly paymentId: string; readonly approval: Approval }
  | { readonly kind: 'cancel'; readonly paymentId: string; readonly payerId: string }
  | { readonly kind: 'expire'; readonly paymentId: string };

/** What the rules read: the batch's locked rows. */
export interface PaymentBook {
  /** Payments the approvals, cancellations and expiries name, locked. */
  readonly locked: ReadonlyMap<string, LockedPayment>;
  /** Payments that already exist under the ids of the creations (retried requests). */
  readonly existing: ReadonlyMap<string, Payment>;
  /** Names of the payees the creations name (absent: no such payee). */
  readonly payeeNames: ReadonlyMap<string, string>;
  /** Attempt states of the payers of the approvals, locked. */
  readonly attempts: ReadonlyMap<string, AttemptState>;
}

/** What the rules ask of their caller, at the moment the protocol allows it. */
export interface RuleEnvironment {
  readonly nowMs: number;
  readonly attemptPolicy: AttemptPolicy;
  /** Compares an approval's codes with the payment's, in constant time. Called only under a reservation. */
  codesMatch(locked: LockedPayment, approval: Approval): boolean;
  /** The per-payer throttle of the payer's attempts: an error to answer, or undefined to go on. */
  throttle(index: number, payerId: string): unknown;
}

/** An expected refusal: a catalog code (and details) for the executor to answer with. */
export interface Refusal {
  readonly code:
    | 'payee_not_found'
    | 'payment_not_found'
    | 'payment_not_approvable'
    | 'payment_not_cancelable'
    | 'payer_locked'
    | 'approval_failed';
  readonly param?: string;
  readonly details?: Readonly<Record<string, string | number>>;
}

/** How an operation is answered. */
export type Answer =
  | { readonly kind: 'payment'; readonly payment: Payment }
  /** A creation whose hold went to the ledger: answered by `concludeCreations`. */
  | { readonly kind: 'pending_hold'; readonly transferIndex: number }
  /** A retried creation: the payment that exists, without its first code. */
  | { readonly kind: 'existing'; readonly payment: Payment }
  /** The same creation twice in one batch: the second gets the first's answer. */
  | { readonly kind: 'same_as'; readonly index: number }
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  | { readonly kind: 'throttled'; readonly error: unknown };

/** A security or status event for the audit log. */
export interface PaymentEvent {
  readonly event: string;
  readonly subject: string;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

/** What a batch changes besides the answers. */
export interface PaymentEffects {
  /** Ledger transfers, in arrival order. */
  readonly transfers: TransferRequest[];
  /** Final status and failed-approval count of every payment the batch changed (not the new ones). */
  readonly statuses: Map<string, { status: PaymentStatus; failedApprovals: number }>;
  /** Final attempt state of every payer whose state changed. */
  readonly attempts: Map<string, AttemptState>;
  /** Payments that succeeded in the batch, for the observers. */
  readonly succeeded: Payment[];
  readonly events: PaymentEvent[];
}

/** The decisions of step 1. */
export interface PaymentDecisions {
  readonly answers: Answer[];
  readonly effects: PaymentEffects;
}

/**
 * The ledger's names, which the services own: the accounts of payers and payees, and the ids of the
 * transfers that post, void or expire a hold (derived from the hold's, so a retry names the same transfer).
 */
export interface LedgerNames {
  payerWallet(payerId: string, currency: string): string;
  payeeAccount(payeeId: string, currency: string): string;
  post(holdTransferId: string): string;
  void(holdTransferId: string): string;
  expire(holdTransferId: string): string;
}

function refused(code: Refusal['code'], extra: Omit<Refusal, 'code'> = {}): Answer {
  return { kind: 'refused', refusal: { code, ...extra } };
}

/** The audit event of a payment's change of status. */
export function statusEvent(payment: Payment, status: PaymentStatus): PaymentEvent {
  return {
    event: 'payment_status_changed',
    subject: payment.id,
    detail: { status, payerId: payment.payerId },
  };
}

/** The new payment of a creation: `requires_approval`, holding its amount until `expiresAtMs`. */
export function newPayment(input: {
  readonly id: string;
  readonly holdTransferId: string;
  readonly payerId: string;
  readonly payeeId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly deliverTo: DeliverTo;
  readonly paymentRequestId: string | null;
  readonly metadata: Metadata;
  readonly nowMs: number;
  readonly codeTtlSeconds: number;
}): Payment {
  return {
    id: input.id,
    payerId: input.payerId,
    payeeId: input.payeeId,
    amount: input.amount,
    currency: input.currency,
    status: 'requires_approval',
    deliverTo: input.deliverTo,
    holdTransferId: input.holdTransferId,
    failedApprovals: 0,
    paymentRequestId: input.paymentRequestId,
    metadata: input.metadata,
    createdAtMs: input.nowMs,
    expiresAtMs: input.nowMs + input.codeTtlSeconds * 1000,
    updatedAtMs: input.nowMs,
  };
}

/** The walk over one batch: mutable copies of the locked state, and what the walk emits. */
class BatchWalk {
  readonly payments = new Map<string, LockedPayment>();
  readonly attempts = new Map<string, AttemptState>();
  readonly effects: PaymentEffects = {
    transfers: [],
    statuses: new Map(),
    attempts: new Map(),
    succeeded: [],
    events: [],
  };
  /** Creations of this batch by payment id: the index of the first. */
  readonly created = new Map<string, number>();

  constructor(
    readonly book: PaymentBook,
    readonly env: RuleEnvironment,
    readonly ids: LedgerNames,
  ) {
    for (const [id, locked] of book.locked) this.payments.set(id, locked);
    for (const [subject, state] of book.attempts) this.attempts.set(subject, state);
  }

  /** Moves a payment to `status`, releasing or posting its hold as the status requires. */
  change(locked: LockedPayment, status: PaymentStatus, failedApprovals: number): Payment {
    const { payment } = locked;
    const hold = payment.holdTransferId;
    if (status === 'succeeded') {
      this.effects.transfers.push({ id: this.ids.post(hold), kind: 'post', pendingId: hold });
    } else if (status === 'expired') {
      this.effects.transfers.push({ id: this.ids.expire(hold), kind: 'expire', pendingId: hold });
    } else if (status !== 'requires_approval') {
      this.effects.transfers.push({ id: this.ids.void(hold), kind: 'void', pendingId: hold });
    }
    const changed: Payment = { ...payment, status, failedApprovals, updatedAtMs: this.env.nowMs };
    this.payments.set(payment.id, { ...locked, payment: changed });
    this.effects.statuses.set(payment.id, { status, failedApprovals });
    if (status !== payment.status) this.effects.events.push(statusEvent(payment, status));
    return changed;
  }

  setAttempts(payerId: string, state: AttemptState): void {
    this.attempts.set(payerId, state);
    this.effects.attempts.set(payerId, state);
  }

  /** True when the payment is open but past its expiry: it expires now, whatever the operation was. */
  expireIfDue(locked: LockedPayment): boolean {
    const { payment } = locked;
    if (payment.status !== 'requires_approval' || this.env.nowMs < payment.expiresAtMs) return false;
    this.change(locked, 'expired', payment.failedApprovals);
    return true;
  }

  create(operation: Extract<PaymentOperation, { kind: 'create' }>, index: number): Answer {
    const { payment } = operation;
    if (!this.book.payeeNames.has(payment.payeeId)) return refused('payee_not_found', { param: 'payeeId' });
    const existing = this.book.existing.get(payment.id);
    if (existing !== undefined) return { kind: 'existing', payment: existing };
    const first = this.created.get(payment.id);
    if (first !== undefined) return { kind: 'same_as', index: first };
    this.created.set(payment.id, index);
    const transferIndex = this.effects.transfers.length;
    this.effects.transfers.push({
      id: payment.holdTransferId,
      kind: 'pending',
      debitAccountId: this.ids.payerWallet(payment.payerId, payment.currency),
      creditAccountId: this.ids.payeeAccount(payment.payeeId, payment.currency),
      amount: payment.amount,
      timeoutAtMs: payment.expiresAtMs,
      reference: `payment:${payment.id}`,
    });
    return { kind: 'pending_hold', transferIndex };
  }

  approve(operation: Extract<PaymentOperation, { kind: 'approve' }>, index: number): Answer {
    const locked = this.payments.get(operation.paymentId);
    if (locked === undefined) return refused('payment_not_found');
    if (this.expireIfDue(locked))
      return refused('payment_not_approvable', { details: { status: 'expired' } });
    const { payment } = locked;
    if (payment.status !== 'requires_approval') {
      return refused('payment_not_approvable', { details: { status: payment.status } });
    }
    const throttled = this.env.throttle(index, payment.payerId);
    if (throttled !== undefined) return { kind: 'throttled', error: throttled };
    const before = this.attempts.get(payment.payerId);
    if (before === undefined) throw new Error(`invariant: attempt state of ${payment.payerId} not locked`);
    const attempt = attemptNow(before, this.env.nowMs, this.env.attemptPolicy, () =>
      this.env.codesMatch(locked, operation.approval),
    );
    if (!attempt.reserved) {
      return refused('payer_locked', { details: lockedAnswerDetails(before, this.env.nowMs) });
    }
    // The common case — a right code, nothing counted before — changes nothing worth a write.
    if (!sameAttemptState(attempt.state, before)) this.setAttempts(payment.payerId, attempt.state);
    if (attempt.verdict === 'succeeded') {
      this.effects.events.push({
        event: 'approval_succeeded',
        subject: payment.payerId,
        detail: { paymentId: payment.id },
      });
      const succeeded = this.change(locked, 'succeeded', payment.failedApprovals);
      this.effects.succeeded.push(succeeded);
      return { kind: 'payment', payment: succeeded };
    }
    if (attempt.verdict === 'locked') {
      return refused('payer_locked', { details: lockedAnswerDetails(attempt.state, this.env.nowMs) });
    }
    return this.countWrongCode(locked, attempt.consecutiveFailures, attempt.lockedUntilMs);
  }

  /** A wrong code: counted against the payment (the third fails it) and reported for the payer. */
  countWrongCode(locked: LockedPayment, consecutiveFailures: number, lockedUntilMs: number | null): Answer {
    const { payment } = locked;
    const failedApprovals = payment.failedApprovals + 1;
    const failed = failedApprovals >= approvalFailuresBeforePaymentFails;
    this.effects.events.push({
      event: 'approval_failed',
      subject: payment.payerId,
      detail: { paymentId: payment.id, failedApprovals, consecutiveFailures },
    });
    if (lockedUntilMs !== null) {
      this.effects.events.push({
        event: 'payer_locked',
        subject: payment.payerId,
        detail: { lockedUntilMs },
      });
    }
    this.change(locked, failed ? 'failed' : 'requires_approval', failedApprovals);
    return refused('approval_failed');
  }

  cancel(operation: Extract<PaymentOperation, { kind: 'cancel' }>): Answer {
    const locked = this.payments.get(operation.paymentId);
    if (locked === undefined || locked.payment.payerId !== operation.payerId)
      return refused('payment_not_found');
    if (this.expireIfDue(locked))
      return refused('payment_not_cancelable', { details: { status: 'expired' } });
    const { payment } = locked;
    if (payment.status !== 'requires_approval') {
      return refused('payment_not_cancelable', { details: { status: payment.status } });
    }
    return { kind: 'payment', payment: this.change(locked, 'canceled', payment.failedApprovals) };
  }

  expire(operation: Extract<PaymentOperation, { kind: 'expire' }>): Answer {
    const locked = this.payments.get(operation.paymentId);
    if (locked === undefined) return refused('payment_not_found');
    this.expireIfDue(locked);
    return { kind: 'payment', payment: this.payments.get(operation.paymentId)!.payment };
  }
}

/** Step 1: every operation of the batch, in arrival order. */
export function decidePayments(
  operations: readonly PaymentOperation[],
  book: PaymentBook,
  env: RuleEnvironment,
  ids: LedgerNames,
): PaymentDecisions {
  const walk = new BatchWalk(book, env, ids);
  const answers = operations.map((operation, index): Answer => {
    if (operation.kind === 'create') return walk.create(operation, index);
    if (operation.kind === 'approve') return walk.approve(operation, index);
    if (operation.kind === 'cancel') return walk.cancel(operation);
    return walk.expire(operation);
  });
  return { answers, effects: walk.effects };
}

/** How a creation ended once the ledger decided its hold. */
export type CreationOutcome =
  | { readonly kind: 'created'; readonly payment: Payment }
  | { readonly kind: 'insufficient_funds' }
  /** A concurrent twin (same idempotency key) committed the hold first: the executor reads its payment. */
  | { readonly kind: 'created_concurrently'; readonly paymentId: string };

/**
 * Step 2: the creations' outcomes from the ledger's results (one per transfer of `effects.transfers`).
 * A hold the ledger refuses for funds, or for want of the payer's wallet (no money ever deposited in that
 * currency), is `insufficient_funds`; any other refusal of a hold, post, void or expiry breaks an invariant
 * (an expiry or void may find the hold already expired by the ledger's own sweeper).
 */
export function concludeCreations(
  operations: readonly PaymentOperation[],
  decisions: PaymentDecisions,
  results: readonly TransferResult[],
): Map<number, CreationOutcome> {
  const { transfers } = decisions.effects;
  if (results.length !== transfers.length) throw new Error('invariant: one ledger result per transfer');
  const holdIndexes = new Set<number>();
  const outcomes = new Map<number, CreationOutcome>();
  decisions.answers.forEach((answer, index) => {
    if (answer.kind !== 'pending_hold') return;
    const operation = operations[index];
    if (operation?.kind !== 'create')
      throw new Error('invariant: a hold for an operation that creates nothing');
    holdIndexes.add(answer.transferIndex);
    outcomes.set(index, holdOutcome(results[answer.transferIndex]!, operation.payment));
  });
  results.forEach((result, index) => {
    if (holdIndexes.has(index) || result.status !== 'failed') return;
    const transfer = transfers[index]!;
    if (
      (transfer.kind === 'void' || transfer.kind === 'expire') &&
      result.error === 'pending_transfer_expired'
    )
      return;
    throw new Error(`invariant: ${transfer.kind} of hold ${transfer.pendingId} refused: ${result.error}`);
  });
  return outcomes;
}

function holdOutcome(result: TransferResult, payment: Payment): CreationOutcome {
  if (result.status === 'created') return { kind: 'created', payment };
  // The same id already recorded: a concurrent twin of this creation (same idempotency key) committed first,
  // with its own expiry, hence possibly other fields.
  if (result.status !== 'failed') return { kind: 'created_concurrently', paymentId: payment.id };
  const { error } = result;
  if (error === 'exists_with_different_fields')
    return { kind: 'created_concurrently', paymentId: payment.id };
  if (error === 'exceeds_credits' || error === 'debit_account_not_found')
    return { kind: 'insufficient_funds' };
  throw new Error(`invariant: hold for payment ${payment.id} refused: ${error}`);
}
