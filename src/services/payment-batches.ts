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
import type { TransferRequest, TransferResult } from '../domain/ledger.js';
import { limits } from '../domain/limits.js';
import type { Payment, PaymentStatus } from '../domain/payment.js';
import type { Database, SqlExecutor } from '../store/database.js';
import { payeeAccount, payerWallet } from './accounts.js';
import { type BatchOutcome, CommitBatcher, type CommitBatcherOptions } from './commit-batcher.js';
import { derivedId, newId } from './ids.js';
import type { AuditEvent, MethodDependencies } from './method-dependencies.js';
import type { PaymentInsert, TouchedSession } from './party-store.js';
import type { Approval, CreatedPayment, PaymentCreation, PaymentObserver } from './payment-service.js';
import {
  type CodeMaterial,
  firstCodeDelivery,
  openCodeMaterial,
  type SealedCodeMaterial,
  secondCodeHashes,
} from './second-codes.js';

/** A payer's sealed verification code and active terminals (sealed keys), in terminal order. */
export type PayerCodeMaterial = SealedCodeMaterial;

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
 * Batches running at once. PGlite runs one transaction at a time, so a second batch would only wait; on
 * PostgreSQL a second batch reads, locks its payments and computes its codes while the first one holds
 * the accounts and commits (measured: 726 payments/s with two, 682 with one; docs/performance.md).
 */
const batchesInFlightMax = { pglite: 1, postgres: 2 } as const;

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

/** One operation of the payment batcher. */
type Operation =
  | { readonly kind: 'create'; readonly creation: PaymentCreation }
  | { readonly kind: 'approve'; readonly input: ApprovalInput }
  | { readonly kind: 'cancel'; readonly input: CancelInput };

/** What an operation answers: a creation its created payment, an approval or a cancellation the payment. */
type OperationResult = CreatedPayment | Payment;

/** A hold's fate in the batch; all but `held` and `no_funds` are left to the reference path. */
type HoldResult = 'held' | 'no_funds' | 'no_account' | 'retried';

/**
 * The group-committed operations of payments. Creations, approvals and cancellations share ONE batcher, so
 * that a batch takes the rows every payment contends for — its payee's account, the audit head — once for
 * all three kinds: one ledger batch of holds, posts and voids, one round trip of writes, one audit append,
 * one commit. (With a batcher per kind, a creation batch and an approval batch took those rows in turn.)
 */
export class PaymentBatches {
  private readonly operations: CommitBatcher<Operation, OperationResult>;

  constructor(
    private readonly deps: MethodDependencies,
    private readonly batching: CommitBatching,
    private readonly reference: PaymentReferencePath,
  ) {
    this.operations = new CommitBatcher<Operation, OperationResult>(
      deps.database,
      {
        runMany: (tx, operations) => this.runMany(tx, operations),
        runAlone: (operation) => {
          if (operation.kind === 'create') return reference.createAlone(operation.creation);
          if (operation.kind === 'approve')
            return reference.approveAlone(operation.input.paymentId, operation.input.approval);
          return reference.cancelAlone(operation.input.paymentId, operation.input.payerId);
        },
      },
      { ...batching.options, kindOf: (operation) => operation.kind },
    );
  }

  /** Counters per kind of operation (a batch holding several kinds counts for each), and in all. */
  stats() {
    const byKind = (kind: Operation['kind']) => ({
      batches: 0,
      inputs: 0,
      batchSizeLargest: 0,
      inputsAlone: 0,
      batchesRolledBack: 0,
      ...this.operations.statsByKind.get(kind),
    });
    return {
      creations: byKind('create'),
      approvals: byKind('approve'),
      cancellations: byKind('cancel'),
      all: { ...this.operations.stats },
    };
  }

  /** Creates a payment in the next batch. */
  create(creation: PaymentCreation): Promise<CreatedPayment> {
    return this.operations.submit({ kind: 'create', creation }) as Promise<CreatedPayment>;
  }

  /** Approves a payment in the next batch. */
  approve(paymentId: string, approval: Approval): Promise<Payment> {
    return this.operations.submit({ kind: 'approve', input: { paymentId, approval } }) as Promise<Payment>;
  }

  /** Cancels a payment in the next batch. */
  cancel(paymentId: string, payerId: string): Promise<Payment> {
    return this.operations.submit({ kind: 'cancel', input: { paymentId, payerId } }) as Promise<Payment>;
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
   * One batch, in four or five round trips besides BEGIN and COMMIT:
   * 1. the creations' payees and code material read, and the payments to approve or cancel locked with
   *    their hashes and payers' lock states (sent together);
   * 2. (the first codes and second-code hashes computed, before any account is locked;) one ledger batch
   *    of the holds, posts and voids: the holds it settles locked (a round trip of its own, only when it
   *    settles any), then its accounts;
   * 3. the ledger's writes, the payments, second codes and deliveries, the statuses, the failure counts
   *    reset, and the audit head's lock (sent together, while the accounts are locked);
   * 4. the audit entries.
   * An operation the batch cannot settle — a wrong code, a payment not open, embodiment 2, a first payment
   * to a payee, a merchant's request, a retried creation — runs alone afterwards, through the reference
   * path, which answers it exactly as it always does. A hold refused for funds answers `insufficient_funds`.
   */
  private async runMany(tx: SqlExecutor, operations: readonly Operation[]) {
    const { batching, deps } = this;
    const nowMs = deps.clock.nowMs();
    const outcomes: BatchOutcome<OperationResult>[] = operations.map(() => alone);
    const creations: { index: number; creation: PaymentCreation; payment: Payment }[] = [];
    const approvals: { index: number; input: ApprovalInput }[] = [];
    const cancellations: { index: number; input: CancelInput }[] = [];
    operations.forEach((operation, index) => {
      if (operation.kind === 'create') {
        const { creation } = operation;
        creations.push({ index, creation, payment: this.newPayment(creation, nowMs) });
      } else if (operation.kind === 'approve') approvals.push({ index, input: operation.input });
      else cancellations.push({ index, input: operation.input });
    });
    const lockIds = unique([
      ...approvals.map((a) => a.input.paymentId),
      ...cancellations.map((c) => c.input.paymentId),
    ]);
    const [payeeNames, material, locked] = await Promise.all([
      creations.length === 0
        ? new Map<string, string>()
        : batching.store.selectPayeeNames(tx, unique(creations.map((c) => c.creation.payeeId))),
      creations.length === 0
        ? new Map<string, PayerCodeMaterial>()
        : batching.store.selectCodeMaterial(tx, unique(creations.map((c) => c.creation.payerId))),
      lockIds.length === 0
        ? { states: new Map<string, ApprovalState>(), attempts: new Map<string, AttemptState>() }
        : batching.store.lockForApproval(tx, lockIds),
    ]);

    // Creations: plain ones (a known payee, a payer with code material, no merchant's request) get codes.
    const seenIds = new Set<string>();
    const plain = creations.filter(({ payment }) => {
      const isPlain =
        payment.paymentRequestId === null &&
        payeeNames.has(payment.payeeId) &&
        material.has(payment.payerId) &&
        !seenIds.has(payment.id);
      seenIds.add(payment.id);
      return isPlain;
    });
    const codes = await this.issueCodes(
      plain.map((c) => c.payment),
      material,
    );

    // Approvals and cancellations: each payment is decided once per batch, by its first operation.
    const decided = new Set<string>();
    const approved: { index: number; payment: Payment }[] = [];
    for (const { index, input } of approvals) {
      const state = locked.states.get(input.paymentId);
      if (state === undefined || decided.has(input.paymentId) || !this.matches(state, input.approval, nowMs))
        continue;
      decided.add(input.paymentId);
      const payment = state.payment;
      const refusal = this.throttle(input, payment.payerId, nowMs);
      if (refusal !== undefined) outcomes[index] = { kind: 'failed', error: refusal };
      else if (isLocked(locked.attempts.get(payment.payerId) ?? freshAttemptState, nowMs))
        outcomes[index] = { kind: 'failed', error: new CountersignError('payer_locked') };
      else approved.push({ index, payment });
    }
    const canceled: { index: number; payment: Payment }[] = [];
    for (const { index, input } of cancellations) {
      const payment = locked.states.get(input.paymentId)?.payment;
      if (payment === undefined || payment.payerId !== input.payerId || decided.has(payment.id)) continue;
      if (payment.status !== 'requires_approval' || nowMs >= payment.expiresAtMs) continue;
      decided.add(payment.id);
      canceled.push({ index, payment });
    }

    // One ledger batch: holds, then posts, then voids (a hold never counts on money a void frees in the
    // same batch, as if the void had come a moment later).
    const holds: TransferRequest[] = plain.map(({ payment }) => ({
      id: payment.holdTransferId,
      kind: 'pending',
      debitAccountId: payerWallet(payment.payerId, payment.currency).id,
      creditAccountId: payeeAccount(payment.payeeId, payment.currency).id,
      amount: payment.amount,
      timeoutAtMs: payment.expiresAtMs,
      reference: `payment:${payment.id}`,
    }));
    const settlements: TransferRequest[] = [
      ...approved.map(({ payment }) => ({
        id: derivedId('post', payment.holdTransferId),
        kind: 'post' as const,
        pendingId: payment.holdTransferId,
      })),
      ...canceled.map(({ payment }) => ({
        id: derivedId('void', payment.holdTransferId),
        kind: 'void' as const,
        pendingId: payment.holdTransferId,
      })),
    ];
    const planned = await deps.ledgerStore.planTransfersIn(tx, [...holds, ...settlements], nowMs);
    const refused = planned.results.slice(holds.length).find((result) => result.status === 'failed');
    if (refused !== undefined)
      throw new Error(`invariant: a hold was not postable or voidable: ${JSON.stringify(refused)}`);
    const issued: { index: number; insert: PaymentInsert; firstCode: string }[] = [];
    plain.forEach(({ index, creation, payment }, position) => {
      const result = holdResult(planned.results[position]!, creation, payment);
      if (result === 'held') issued.push({ index, ...codes[position]! });
      else if (result === 'no_funds')
        outcomes[index] = {
          kind: 'failed',
          error: new CountersignError('insufficient_funds', { param: 'amount' }),
        };
    });

    // What the batch writes besides the ledger, and its audit events.
    const deliveries = issued.flatMap(({ insert, firstCode }) =>
      insert.payment.deliverTo === 'second_terminal'
        ? [
            firstCodeDelivery(
              deps.secrets,
              insert.payment,
              firstCode,
              payeeNames.get(insert.payment.payeeId)!,
              nowMs,
            ),
          ]
        : [],
    );
    const resets = new Map<string, AttemptState>();
    for (const { payment } of approved) {
      const state = locked.attempts.get(payment.payerId);
      if (state !== undefined && state.consecutiveFailures !== 0 && !resets.has(payment.payerId))
        resets.set(payment.payerId, afterSuccess(state));
    }
    const events: AuditEvent[] = [];
    for (const { insert } of issued) {
      const payment = insert.payment;
      events.push(
        {
          event: 'code_issued',
          subject: payment.payerId,
          detail: { paymentId: payment.id, deliverTo: payment.deliverTo },
        },
        statusEvent(payment, 'requires_approval'),
      );
    }
    for (const { payment } of approved) {
      events.push(
        { event: 'approval_succeeded', subject: payment.payerId, detail: { paymentId: payment.id } },
        statusEvent(payment, 'succeeded'),
      );
    }
    for (const { payment } of canceled) events.push(statusEvent(payment, 'canceled'));

    // Every write in one round trip while the accounts are locked, in an order the foreign keys accept
    // (transfers, then payments, then what names a payment), with the audit head's lock last.
    const { paymentStore, partyStore } = deps;
    let inserted = new Set<string>();
    const approvedPayments = approved.map((a) => a.payment);
    const canceledPayments = canceled.map((c) => c.payment);
    await appendAll(tx, deps.audit, events, nowMs, async () => {
      const [, ids] = await Promise.all([
        planned.write(),
        batching.store.insertPayments(
          tx,
          issued.map((item) => item.insert),
        ),
        ...deliveries.map((delivery) => paymentStore.insertDelivery(tx, delivery)),
        approvedPayments.length === 0
          ? undefined
          : batching.store.updatePaymentStatuses(tx, approvedPayments, 'succeeded', nowMs),
        canceledPayments.length === 0
          ? undefined
          : batching.store.updatePaymentStatuses(tx, canceledPayments, 'canceled', nowMs),
        ...[...resets].map(([payerId, state]) => partyStore.saveAttemptState(tx, payerId, state, nowMs)),
      ]);
      inserted = ids;
    });
    // A payment not inserted met an open first code of its payer (about 1 in 10^8) or a concurrent twin:
    // the whole batch rolls back and runs alone, where the reference path draws again.
    if (inserted.size !== issued.length) throw new Error('a payment of the batch was not inserted');
    for (const { insert } of issued) {
      for (const observer of this.reference.observers)
        await observer.paymentCreatedIn(tx, insert.payment, nowMs);
    }
    for (const payment of approvedPayments) {
      for (const observer of this.reference.observers) await observer.paymentSucceededIn(tx, payment, nowMs);
    }

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
    for (const { index, payment } of approved) {
      outcomes[index] = { kind: 'done', value: { ...payment, status: 'succeeded', updatedAtMs: nowMs } };
    }
    for (const { index, payment } of canceled) {
      outcomes[index] = { kind: 'done', value: { ...payment, status: 'canceled', updatedAtMs: nowMs } };
    }
    return outcomes;
  }

  /**
   * A first code per payment (distinct among the batch's payments of one payer) and the keyed hash of the
   * second code each of the payer's active terminals computes for it.
   */
  private async issueCodes(payments: readonly Payment[], material: ReadonlyMap<string, PayerCodeMaterial>) {
    const { secrets } = this.deps;
    const opened = new Map<string, CodeMaterial>();
    const open = (payerId: string) => {
      let entry = opened.get(payerId);
      if (entry === undefined) {
        entry = openCodeMaterial(secrets, payerId, material.get(payerId)!);
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
        const hashes = await secondCodeHashes(secrets, payment.id, firstCode, open(payment.payerId));
        const insert: PaymentInsert = { payment, firstCodeHash, secondCodeHashes: hashes };
        return { insert, firstCode };
      }),
    );
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
}

/**
 * A hold's fate: `held`, `no_funds`, or — left to the reference path — `no_account` (a wallet or payee
 * account not yet opened, which the reference path opens in the transaction that rolls it back again if
 * the payment is refused) or `retried` (a retried creation whose first attempt committed: the reference
 * path answers with the payment it made then).
 */
function holdResult(result: TransferResult, creation: PaymentCreation, payment: Payment): HoldResult {
  if (result.status === 'created') return 'held';
  const found =
    result.status === 'exists' ||
    (result.status === 'failed' && result.error === 'exists_with_different_fields');
  if (found && creation.idempotencyKey !== undefined) return 'retried';
  if (result.status === 'failed' && result.error === 'exceeds_credits') return 'no_funds';
  if (
    result.status === 'failed' &&
    (result.error === 'debit_account_not_found' || result.error === 'credit_account_not_found')
  ) {
    return 'no_account';
  }
  throw new Error(`invariant: hold for payment ${payment.id} refused: ${JSON.stringify(result)}`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

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
