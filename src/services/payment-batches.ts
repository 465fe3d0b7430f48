/**
 * Group-committed payments: creations (holds), approvals (posts) and cancellations (voids) that arrive
 * together are applied in one transaction each kind, with set-oriented statements — one read of all the
 * payers' code material, one ledger batch for all the holds, one insert of all the payments, one audit
 * append — instead of a transaction and some fifteen statements per payment.
 *
 * This is the fast path of the plain case only. Anything unusual — an approval with the wrong code or
 * with embodiment 2's codes, an expired or unknown payment, a payment of a merchant's request, a retried
 * creation, a collision — is handed back (`alone`) to `PaymentService`'s reference path, which runs it in
 * its own transaction after the batch has committed and answers exactly as it always has. The fast path
 * applies the same rules to the plain case: a rule added to the reference path must be added here too
 * (the API suites run on this path, with group commit on as in production).
 */
import { type AttemptState, afterSuccess, freshAttemptState, isLocked } from '../domain/attempts.js';
import { auditLimits } from '../domain/audit.js';
import { CountersignError } from '../domain/errors.js';
import { generateFirstCode } from '../domain/first-code.js';
import type { TransferRequest } from '../domain/ledger.js';
import { limits } from '../domain/limits.js';
import { computeOcra } from '../domain/ocra.js';
import type { Payment, PaymentStatus } from '../domain/payment.js';
import type { Database, SqlExecutor } from '../store/database.js';
import { payeeAccount, payerWallet } from './accounts.js';
import { type BatchOutcome, CommitBatcher, type CommitBatcherOptions } from './commit-batcher.js';
import { derivedId, newId } from './ids.js';
import type { AuditEvent, MethodDependencies } from './method-dependencies.js';
import { nodeOcraPrimitives } from './ocra-primitives.js';
import { terminalKeyLabel, verificationCodeLabel } from './party-service.js';
import type { DeliveryInsert, PaymentInsert, TouchedSession } from './party-store.js';
import type { Approval, CreatedPayment, PaymentCreation, PaymentObserver } from './payment-service.js';

/** A payer's sealed verification code and active terminals (sealed keys), in terminal order. */
export interface PayerCodeMaterial {
  readonly verificationCodeSealed: string;
  readonly terminals: { readonly id: string; readonly suite: string; readonly keySealed: string }[];
}

/** A payment locked for approval, with the hashes that approve it (second codes of active terminals). */
export interface ApprovalState {
  readonly payment: Payment;
  readonly firstCodeHash: string;
  readonly secondCodeHashes: string[];
}

/** A session to check and extend, as `PartyStore.touchSession` takes it. */
export interface SessionTouch {
  readonly tokenHash: string;
  readonly nowMs: number;
  readonly idleMs: number;
  readonly lifetimeMs: number;
}

/** The set-oriented statements of the fast path; `store/payment-batch-repository` implements them. */
export interface PaymentBatchStore {
  selectPayeeNames(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, string>>;
  selectCodeMaterial(tx: SqlExecutor, payerIds: readonly string[]): Promise<Map<string, PayerCodeMaterial>>;
  insertPayments(tx: SqlExecutor, inserts: readonly PaymentInsert[]): Promise<Set<string>>;
  /** Payments locked in id order, with their approving hashes and their payers' attempt states. */
  lockForApproval(
    tx: SqlExecutor,
    ids: readonly string[],
  ): Promise<{ states: Map<string, ApprovalState>; attempts: Map<string, AttemptState> }>;
  selectAttemptStates(tx: SqlExecutor, subjects: readonly string[]): Promise<Map<string, AttemptState>>;
  updatePaymentStatuses(
    tx: SqlExecutor,
    payments: readonly Payment[],
    status: PaymentStatus,
    nowMs: number,
  ): Promise<void>;
  /** Checks and extends many sessions in one statement: per touch, the live session, or undefined. */
  touchSessions(
    executor: SqlExecutor,
    touches: readonly SessionTouch[],
  ): Promise<(TouchedSession | undefined)[]>;
}

/** How group commit is set up: the batch bounds and the store of the set-oriented statements. */
export interface CommitBatching {
  readonly options: CommitBatcherOptions;
  readonly store: PaymentBatchStore;
}

/**
 * Batches running at once per operation. PGlite runs one transaction at a time, so a second batch would
 * only wait; on PostgreSQL a second batch reads and computes while the first one commits.
 */
const batchesInFlightMax = { pglite: 1, postgres: 1 } as const;

/**
 * Group commit as configured: `size` operations per batch at most (0 turns it off), `waitMs` the longest an
 * operation waits for its batch to close. Returns the dependency to add, or nothing when it is off.
 */
export function commitBatching(
  database: Database,
  configuration: { readonly commitBatchSize?: number; readonly commitBatchWaitMs?: number },
  store: PaymentBatchStore | undefined,
): { commitBatching?: CommitBatching } {
  const size = configuration.commitBatchSize ?? limits.commitBatchSizeMax;
  if (store === undefined || size === 0) return {};
  const options: CommitBatcherOptions = {
    batchSizeMax: Math.min(size, limits.commitBatchSizeMax),
    lingerMs: Math.min(
      configuration.commitBatchWaitMs ?? limits.commitBatchWaitMsMax,
      limits.commitBatchWaitMsMax,
    ),
    batchesInFlightMax: batchesInFlightMax[database.engine],
    queueLengthMax: limits.commitQueueLengthMax,
  };
  return { commitBatching: { options, store } };
}

/** What the fast path needs of `PaymentService`: its observers and its reference path. */
export interface PaymentReferencePath {
  readonly observers: readonly PaymentObserver[];
  createAlone(creation: PaymentCreation): Promise<CreatedPayment>;
  approveAlone(paymentId: string, approval: Approval): Promise<Payment>;
  cancelAlone(paymentId: string, payerId: string): Promise<Payment>;
}

/** An approval as queued. The per-payer throttle is counted once, even when the batch is retried. */
interface ApprovalInput {
  readonly paymentId: string;
  readonly approval: Approval;
  throttle?: { readonly error: unknown } | 'counted';
}

interface CancelInput {
  readonly paymentId: string;
  readonly payerId: string;
}

function statusEvent(payment: Payment, status: PaymentStatus): AuditEvent {
  return {
    event: 'payment_status_changed',
    subject: payment.id,
    detail: { status, payerId: payment.payerId },
  };
}

const alone = { kind: 'alone' } as const;

/** The three group-committed operations of payments. */
export class PaymentBatches {
  private readonly creations: CommitBatcher<PaymentCreation, CreatedPayment>;
  private readonly approvals: CommitBatcher<ApprovalInput, Payment>;
  private readonly cancellations: CommitBatcher<CancelInput, Payment>;

  constructor(
    private readonly deps: MethodDependencies,
    private readonly batching: CommitBatching,
    private readonly reference: PaymentReferencePath,
  ) {
    const { database } = deps;
    this.creations = new CommitBatcher(
      database,
      { runMany: (tx, inputs) => this.createMany(tx, inputs), runAlone: (c) => reference.createAlone(c) },
      batching.options,
    );
    this.approvals = new CommitBatcher(
      database,
      {
        runMany: (tx, inputs) => this.approveMany(tx, inputs),
        runAlone: (input) => reference.approveAlone(input.paymentId, input.approval),
      },
      batching.options,
    );
    this.cancellations = new CommitBatcher(
      database,
      {
        runMany: (tx, inputs) => this.cancelMany(tx, inputs),
        runAlone: (input) => reference.cancelAlone(input.paymentId, input.payerId),
      },
      batching.options,
    );
  }

  /** Counters of the three batchers. */
  stats() {
    return {
      creations: { ...this.creations.stats },
      approvals: { ...this.approvals.stats },
      cancellations: { ...this.cancellations.stats },
    };
  }

  /** Creates a payment in the next batch. */
  create(creation: PaymentCreation): Promise<CreatedPayment> {
    return this.creations.submit(creation);
  }

  /** Approves a payment in the next batch. */
  approve(paymentId: string, approval: Approval): Promise<Payment> {
    return this.approvals.submit({ paymentId, approval });
  }

  /** Cancels a payment in the next batch. */
  cancel(paymentId: string, payerId: string): Promise<Payment> {
    return this.cancellations.submit({ paymentId, payerId });
  }

  private newPayment(creation: PaymentCreation, nowMs: number): Payment {
    const id =
      creation.idempotencyKey === undefined ? newId() : derivedId('payment', creation.idempotencyKey);
    return {
      id,
      payerId: creation.payerId,
      payeeId: creation.payeeId,
      amount: creation.amount,
      currency: creation.currency,
      status: 'requires_approval',
      deliverTo: creation.deliverTo,
      holdTransferId: derivedId('hold', id),
      failedApprovals: 0,
      paymentRequestId: creation.paymentRequestId ?? null,
      createdAtMs: nowMs,
      expiresAtMs: nowMs + this.deps.settings.codeTtlSeconds * 1000,
      updatedAtMs: nowMs,
    };
  }

  /**
   * Creations: payees, code material and retried ids read once for the batch (one round trip), first and
   * second codes computed before any lock is taken, then all holds in one ledger batch and all payments in
   * one insert. A hold refused for funds answers `insufficient_funds` and writes nothing; anything unusual
   * (an account not yet opened, a retried creation, a merchant's request) runs alone.
   */
  private async createMany(tx: SqlExecutor, creations: readonly PaymentCreation[]) {
    const { batching, deps } = this;
    const nowMs = deps.clock.nowMs();
    const payments = creations.map((creation) => this.newPayment(creation, nowMs));
    const [payeeNames, material] = await Promise.all([
      batching.store.selectPayeeNames(tx, unique(creations.map((c) => c.payeeId))),
      batching.store.selectCodeMaterial(tx, unique(creations.map((c) => c.payerId))),
    ]);
    const outcomes: BatchOutcome<CreatedPayment>[] = creations.map(() => alone);
    const seenIds = new Set<string>();
    const plain: number[] = [];
    payments.forEach((payment, index) => {
      const isPlain =
        payment.paymentRequestId === null &&
        payeeNames.has(payment.payeeId) &&
        material.has(payment.payerId) &&
        !seenIds.has(payment.id);
      seenIds.add(payment.id);
      if (isPlain) plain.push(index);
    });
    // The crypto runs before the holds: the payee's account stays locked only for the writes and the commit.
    const codes = await this.issueCodes(
      plain.map((index) => payments[index]!),
      material,
    );
    const { results, write } = await this.hold(
      tx,
      plain.map((index) => payments[index]!),
      plain.map((index) => creations[index]!.idempotencyKey !== undefined),
      nowMs,
    );
    const issued: { index: number; insert: PaymentInsert; firstCode: string }[] = [];
    plain.forEach((index, position) => {
      const result = results[position]!;
      if (result === 'held') issued.push({ index, ...codes[position]! });
      else if (result === 'no_funds')
        outcomes[index] = {
          kind: 'failed',
          error: new CountersignError('insufficient_funds', { param: 'amount' }),
        };
    });
    // The holds, the payments and what follows them are written in one round trip while the accounts
    // are locked, together with the audit head's lock.
    let inserted = new Set<string>();
    await this.afterInsert(tx, issued, payeeNames, nowMs, async () => {
      [, inserted] = await Promise.all([
        write(),
        batching.store.insertPayments(
          tx,
          issued.map((item) => item.insert),
        ),
      ]);
    });
    // A payment not inserted met an open first code of its payer (about 1 in 10^8) or a concurrent twin:
    // the whole batch rolls back and runs alone, where the reference path draws again.
    if (inserted.size !== issued.length) throw new Error('a payment of the batch was not inserted');
    for (const { index, insert, firstCode } of issued) {
      const payment = insert.payment;
      outcomes[index] = {
        kind: 'done',
        value: {
          payment,
          payeeName: payeeNames.get(payment.payeeId)!,
          ...(payment.deliverTo === 'first_terminal' ? { firstCode } : {}),
        },
      };
    }
    return outcomes;
  }

  /**
   * Decides the holds of the amounts in one ledger batch, with their accounts locked; per payment `held`,
   * `no_funds`, or — left to the reference path — `no_account` or `retried`. `write` records them.
   */
  private async hold(
    tx: SqlExecutor,
    payments: readonly Payment[],
    retriable: readonly boolean[],
    nowMs: number,
  ) {
    if (payments.length === 0) return { results: [], write: async () => {} };
    const holds: TransferRequest[] = payments.map((payment) => ({
      id: payment.holdTransferId,
      kind: 'pending',
      debitAccountId: payerWallet(payment.payerId, payment.currency).id,
      creditAccountId: payeeAccount(payment.payeeId, payment.currency).id,
      amount: payment.amount,
      timeoutAtMs: payment.expiresAtMs,
      reference: `payment:${payment.id}`,
    }));
    const planned = await this.deps.ledgerStore.planTransfersIn(tx, holds, nowMs);
    const results = planned.results.map((result, index) => {
      if (result.status === 'created') return 'held' as const;
      // A retried creation whose first attempt committed finds its hold: the reference path answers with
      // the payment it made then.
      const found =
        result.status === 'exists' ||
        (result.status === 'failed' && result.error === 'exists_with_different_fields');
      if (found && retriable[index] === true) return 'retried' as const;
      if (result.status === 'failed' && result.error === 'exceeds_credits') return 'no_funds' as const;
      // A wallet or payee account not yet opened (a first payment in a currency, to a payee) is opened by
      // the reference path, in the transaction that rolls it back again if the payment is refused.
      if (
        result.status === 'failed' &&
        (result.error === 'debit_account_not_found' || result.error === 'credit_account_not_found')
      ) {
        return 'no_account' as const;
      }
      throw new Error(
        `invariant: hold for payment ${payments[index]!.id} refused: ${JSON.stringify(result)}`,
      );
    });
    // Written by the caller, together with the payments.
    return { results, write: planned.write };
  }

  /**
   * A first code per payment (distinct among the batch's payments of one payer) and the keyed hash of the
   * second code each of the payer's active terminals computes for it.
   */
  private async issueCodes(payments: readonly Payment[], material: ReadonlyMap<string, PayerCodeMaterial>) {
    const { secrets } = this.deps;
    const opened = new Map<
      string,
      { pin: string; terminals: { id: string; suite: string; key: Uint8Array }[] }
    >();
    const open = (payerId: string) => {
      let entry = opened.get(payerId);
      if (entry === undefined) {
        const sealed = material.get(payerId)!;
        entry = {
          pin: secrets.box
            .open(sealed.verificationCodeSealed, verificationCodeLabel(payerId))
            .toString('utf8'),
          terminals: sealed.terminals.map((t) => ({
            id: t.id,
            suite: t.suite,
            key: new Uint8Array(secrets.box.open(t.keySealed, terminalKeyLabel(t.id))),
          })),
        };
        opened.set(payerId, entry);
      }
      return entry;
    };
    const taken = new Set<string>();
    return Promise.all(
      payments.map(async (payment) => {
        let firstCode: string;
        let firstCodeHash: string;
        do {
          firstCode = generateFirstCode();
          firstCodeHash = secrets.keyedHash('first_code', payment.payerId, firstCode);
        } while (taken.has(firstCodeHash));
        taken.add(firstCodeHash);
        const codes = open(payment.payerId);
        const secondCodeHashes = await Promise.all(
          codes.terminals.map(async (terminal) => {
            const secondCode = await computeOcra(
              {
                suite: terminal.suite,
                key: terminal.key,
                question: firstCode,
                pin: codes.pin,
              },
              nodeOcraPrimitives,
            );
            return {
              terminalId: terminal.id,
              hash: secrets.keyedHash('second_code', payment.id, secondCode),
            };
          }),
        );
        const insert: PaymentInsert = { payment, firstCodeHash, secondCodeHashes };
        return { insert, firstCode };
      }),
    );
  }

  /**
   * What follows the payments' insert: second-terminal deliveries in the outbox, and the audit events.
   * `writes` (the caller's holds and payments) is sent first, then the deliveries, then the audit head's
   * lock, all in one round trip.
   */
  private async afterInsert(
    tx: SqlExecutor,
    codes: readonly { insert: PaymentInsert; firstCode: string }[],
    payeeNames: ReadonlyMap<string, string>,
    nowMs: number,
    writes: () => Promise<unknown>,
  ): Promise<void> {
    const { paymentStore, secrets, audit } = this.deps;
    const events: AuditEvent[] = [];
    const deliveries: DeliveryInsert[] = [];
    for (const { insert, firstCode } of codes) {
      const payment = insert.payment;
      if (payment.deliverTo === 'second_terminal') {
        const payload = JSON.stringify({
          paymentId: payment.id,
          firstCode,
          amount: payment.amount.toString(),
          currency: payment.currency,
          payeeId: payment.payeeId,
          payeeName: payeeNames.get(payment.payeeId)!,
          expiresAtMs: payment.expiresAtMs,
        });
        const deliveryId = derivedId('delivery', payment.id, 'second_terminal');
        deliveries.push({
          id: deliveryId,
          payerId: payment.payerId,
          paymentId: payment.id,
          channel: 'second_terminal',
          payloadSealed: secrets.box.seal(payload, `delivery:${deliveryId}`),
          nowMs,
        });
      }
      events.push(
        {
          event: 'code_issued',
          subject: payment.payerId,
          detail: { paymentId: payment.id, deliverTo: payment.deliverTo },
        },
        statusEvent(payment, 'requires_approval'),
      );
    }
    await appendAll(tx, audit, events, nowMs, () =>
      Promise.all([writes(), ...deliveries.map((delivery) => paymentStore.insertDelivery(tx, delivery))]),
    );
    for (const { insert } of codes) {
      for (const observer of this.reference.observers)
        await observer.paymentCreatedIn(tx, insert.payment, nowMs);
    }
  }

  /**
   * Approvals: the payments locked and their hashes read once for the batch; an approval whose second code
   * matches, of an open payment of an unlocked payer, is posted with the others in one ledger batch.
   * Every other approval runs alone, where the reference path counts the failure or names the reason.
   */
  private async approveMany(tx: SqlExecutor, inputs: readonly ApprovalInput[]) {
    const { batching, deps } = this;
    const nowMs = deps.clock.nowMs();
    const { states, attempts } = await batching.store.lockForApproval(
      tx,
      unique(inputs.map((input) => input.paymentId)),
    );
    const outcomes: BatchOutcome<Payment>[] = inputs.map(() => alone);
    const approved: { index: number; payment: Payment }[] = [];
    const decided = new Set<string>();
    inputs.forEach((input, index) => {
      const state = states.get(input.paymentId);
      if (state === undefined || decided.has(input.paymentId) || !this.matches(state, input.approval, nowMs))
        return;
      decided.add(input.paymentId);
      const payment = state.payment;
      const refusal = this.throttle(input, payment.payerId, nowMs);
      if (refusal !== undefined) outcomes[index] = { kind: 'failed', error: refusal };
      else if (isLocked(attempts.get(payment.payerId) ?? freshAttemptState, nowMs))
        outcomes[index] = { kind: 'failed', error: new CountersignError('payer_locked') };
      else approved.push({ index, payment });
    });
    await this.post(
      tx,
      approved.map((a) => a.payment),
      attempts,
      nowMs,
    );
    for (const { index, payment } of approved) {
      outcomes[index] = { kind: 'done', value: { ...payment, status: 'succeeded', updatedAtMs: nowMs } };
    }
    return outcomes;
  }

  /**
   * True when the payment is open and unexpired and the second code matches one of its active terminals'.
   * Embodiment 2 always runs alone: its check opens the payer's verification code.
   */
  private matches(state: ApprovalState, approval: Approval, nowMs: number): boolean {
    const { payment } = state;
    if (payment.status !== 'requires_approval' || nowMs >= payment.expiresAtMs) return false;
    if (payment.paymentRequestId !== null || !('secondCode' in approval)) return false;
    const { secrets } = this.deps;
    const candidate = secrets.keyedHash('second_code', payment.id, approval.secondCode);
    // Every stored hash is compared, without stopping at the first match.
    let match = false;
    for (const hash of state.secondCodeHashes) match = secrets.constantTimeEqualHex(candidate, hash) || match;
    return match;
  }

  /** The per-payer throttle, counted once per approval even if the batch's transaction runs again. */
  private throttle(input: ApprovalInput, payerId: string, nowMs: number): unknown {
    if (input.throttle === undefined) {
      try {
        this.deps.payerRateLimiter?.attempt(payerId, nowMs);
        input.throttle = 'counted';
      } catch (error) {
        input.throttle = { error };
      }
    }
    return input.throttle === 'counted' ? undefined : input.throttle.error;
  }

  /** Posts the holds of approved payments, marks them succeeded, resets their payers' counts, audits. */
  private async post(
    tx: SqlExecutor,
    payments: readonly Payment[],
    attempts: ReadonlyMap<string, AttemptState>,
    nowMs: number,
  ): Promise<void> {
    if (payments.length === 0) return;
    const { ledgerStore, partyStore, audit } = this.deps;
    const planned = await ledgerStore.planTransfersIn(
      tx,
      payments.map((p) => ({
        id: derivedId('post', p.holdTransferId),
        kind: 'post' as const,
        pendingId: p.holdTransferId,
      })),
      nowMs,
    );
    const refused = planned.results.find((result) => result.status === 'failed');
    if (refused !== undefined)
      throw new Error(`invariant: a hold was not postable: ${JSON.stringify(refused)}`);
    const events: AuditEvent[] = [];
    const resets: { payerId: string; state: AttemptState }[] = [];
    for (const payment of payments) {
      const state = attempts.get(payment.payerId);
      if (
        state !== undefined &&
        state.consecutiveFailures !== 0 &&
        !resets.some((r) => r.payerId === payment.payerId)
      )
        resets.push({ payerId: payment.payerId, state: afterSuccess(state) });
      events.push(
        { event: 'approval_succeeded', subject: payment.payerId, detail: { paymentId: payment.id } },
        statusEvent(payment, 'succeeded'),
      );
    }
    // The posts, the statuses and the counts reset are written in one round trip while the accounts are
    // locked, together with the audit head's lock.
    await appendAll(tx, audit, events, nowMs, () =>
      Promise.all([
        planned.write(),
        this.batching.store.updatePaymentStatuses(tx, payments, 'succeeded', nowMs),
        ...resets.map((r) => partyStore.saveAttemptState(tx, r.payerId, r.state, nowMs)),
      ]),
    );
    for (const payment of payments) {
      for (const observer of this.reference.observers) await observer.paymentSucceededIn(tx, payment, nowMs);
    }
  }

  /** Cancellations: open payments of their own payer are voided in one ledger batch; others run alone. */
  private async cancelMany(tx: SqlExecutor, inputs: readonly CancelInput[]) {
    const { batching, deps } = this;
    const nowMs = deps.clock.nowMs();
    const { states } = await batching.store.lockForApproval(
      tx,
      unique(inputs.map((input) => input.paymentId)),
    );
    const outcomes: BatchOutcome<Payment>[] = inputs.map(() => alone);
    const canceled: { index: number; payment: Payment }[] = [];
    const decided = new Set<string>();
    inputs.forEach((input, index) => {
      const payment = states.get(input.paymentId)?.payment;
      if (payment === undefined || payment.payerId !== input.payerId || decided.has(payment.id)) return;
      if (payment.status !== 'requires_approval' || nowMs >= payment.expiresAtMs) return;
      decided.add(payment.id);
      canceled.push({ index, payment });
    });
    if (canceled.length === 0) return outcomes;
    const results = await deps.ledgerStore.createTransfersIn(
      tx,
      canceled.map(({ payment }) => ({
        id: derivedId('void', payment.holdTransferId),
        kind: 'void' as const,
        pendingId: payment.holdTransferId,
      })),
      nowMs,
    );
    const refused = results.find((result) => result.status === 'failed');
    if (refused !== undefined)
      throw new Error(`invariant: a hold was not voidable: ${JSON.stringify(refused)}`);
    const payments = canceled.map((c) => c.payment);
    await batching.store.updatePaymentStatuses(tx, payments, 'canceled', nowMs);
    await appendAll(
      tx,
      deps.audit,
      payments.map((payment) => statusEvent(payment, 'canceled')),
      nowMs,
    );
    for (const { index, payment } of canceled) {
      outcomes[index] = { kind: 'done', value: { ...payment, status: 'canceled', updatedAtMs: nowMs } };
    }
    return outcomes;
  }
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** Appends events in as few appends as the audit log's per-append bound allows. */
/** Appends `events` in chunks the audit log accepts; `alongside` goes with the first (see `appendIn`). */
async function appendAll(
  tx: SqlExecutor,
  audit: MethodDependencies['audit'],
  events: readonly AuditEvent[],
  nowMs: number,
  alongside?: () => Promise<unknown>,
): Promise<void> {
  if (events.length === 0) {
    await alongside?.();
    return;
  }
  for (let start = 0; start < events.length; start += auditLimits.eventsPerAppendMax) {
    const chunk = events.slice(start, start + auditLimits.eventsPerAppendMax);
    await audit.appendIn(tx, chunk, nowMs, start === 0 ? alongside : undefined);
  }
}
