/**
 * The one executor of the payment rulebook (`domain/payment-rules.ts`). Every payment operation — create,
 * approve (both embodiments, a merchant's redemption, a terminal's approval), cancel, expire — goes through
 * it, alone or with others that arrived at the same time (group commit): a batch of one is the same path as
 * a batch of five hundred.
 *
 * One batch, one transaction, in a fixed lock order (payments by id, then the approving payers' attempt
 * rows by id, then the passkey challenges and passkeys that passkey approvals name, each by id, then the
 * ledger's holds and accounts by id, then the audit head), so that two batches never wait on each other in
 * a cycle:
 * 1. the payments the batch names are locked with their code hashes; the creations' payees, code material
 *    and already-existing payments (retries) are read — one round trip;
 * 2. the approving payers' attempt rows are locked, then the rows of passkey approvals;
 * 3. the rules decide every answer and effect in arrival order (codes are compared only under a reserved
 *    attempt), and the first codes and second-code hashes of the new payments are computed;
 * 4. the ledger locks its accounts and plans the transfers on them, with the audit head locked in the same
 *    round trip; the rules conclude the creations from the ledger's answers;
 * 5. every write — ledger, payments, second codes, deliveries, statuses, attempt states, audit entries — in
 *    one round trip, then the observers. The hot rows (payees' accounts, the audit head) stay locked for
 *    three round trips: their lock, the writes, the commit.
 * A batch that throws is split by the batcher (`commit-batcher.ts`); an `invariant:` failure stops the process.
 */

import { CountersignError } from '../../domain/errors.js';
import { generateFirstCode } from '../../domain/first-code.js';
import { limits } from '../../domain/limits.js';
import { emptyMetadata, type Metadata } from '../../domain/metadata.js';
import {
  type PasskeyAssertion,
  type PasskeyChallengeState,
  type PasskeyState,
  passkeyApproves,
} from '../../domain/passkey.js';
import type { Payment } from '../../domain/payment.js';
import {
  type Answer,
  type Approval,
  type CreationOutcome,
  concludeCreations,
  decidePayments,
  type LedgerNames,
  type LockedPayment,
  newPayment,
  type PaymentBook,
  type PaymentDecisions,
  type PaymentOperation,
  statusEvent,
} from '../../domain/payment-rules.js';
import { verificationCodeLabel } from '../../domain/sealed-labels.js';
import type { Database, SqlExecutor } from '../database.js';
import {
  type BatchOutcome,
  CommitBatcher,
  type CommitBatcherOptions,
} from '../group-commit/commit-batcher.js';
import {
  claimFirstOfEachKey,
  IdempotencyKeyTaken,
  type KeyClaimTicket,
} from '../idempotency/idempotency-store.js';
import { derivedId, type KeyedHash, newId } from '../ids.js';
import { payeeAccount, payerWallet } from '../ledger/accounts.js';
import { expiryTransferId } from '../ledger/ledger-service.js';
import type { AuditEvent, MethodDependencies } from '../method-dependencies.js';
import type { CommitBatching, PayerCodeMaterial, PaymentBatchStore } from './payment-batch-store.js';
import type { PaymentInsert } from './payment-store.js';
import { type CodeMaterial, firstCodeDelivery, openCodeMaterial, secondCodeHashes } from './second-codes.js';

/**
 * The executor's batching as configured: `size` operations per batch at most (0: every operation alone, a
 * batch of one), `waitMs` the longest an operation waits for its batch to close.
 */
export function commitBatching(
  database: Database,
  configuration: { readonly commitBatchSize?: number; readonly commitBatchWaitMs?: number },
  store: PaymentBatchStore,
): CommitBatching {
  const size = Math.min(
    configuration.commitBatchSize ?? limits.commitBatchSizeMax,
    limits.commitBatchSizeMax,
  );
  const alone = size === 0;
  const options: CommitBatcherOptions = {
    batchSizeMax: alone ? 1 : size,
    lingerMs: alone
      ? 0
      : Math.min(configuration.commitBatchWaitMs ?? limits.commitBatchWaitMsMax, limits.commitBatchWaitMsMax),
    batchesInFlightMax: (alone ? limits.singleOperationsInFlightMax : limits.commitBatchesInFlightMax)[
      database.engine
    ],
    queueLengthMax: limits.commitQueueLengthMax,
  };
  return { options, store };
}

/** A payment as asked for by an authenticated payer. */
export interface PaymentCreation {
  readonly payerId: string;
  readonly payeeId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly deliverTo: Payment['deliverTo'];
  readonly paymentRequestId?: string;
  /** Checked by `checkMetadata` before the payment is submitted. */
  readonly metadata?: Metadata;
  /** Scoped idempotency key of the request; the payment's id is derived from it. */
  readonly idempotencyKey?: string;
}

/** A created payment; the first code only when it goes to the first terminal, and only this once. */
export interface CreatedPayment {
  readonly payment: Payment;
  readonly firstCode?: string;
  readonly payeeName: string;
}

/**
 * Told of a payment's creation and success inside the transaction that makes them, so that what depends
 * on a payment (a merchant's payment request, its webhook event) commits or rolls back with it. Throwing
 * refuses the change: the batch rolls back and is split until the operation that caused it fails alone.
 */
export interface PaymentObserver {
  paymentCreatedIn(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void>;
  paymentSucceededIn(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void>;
}

/** An operation as submitted; `ticket` claims the request's idempotency key in the operation's batch. */
export type PaymentCommand =
  | { readonly kind: 'create'; readonly creation: PaymentCreation; readonly ticket?: KeyClaimTicket }
  | {
      readonly kind: 'approve';
      readonly paymentId: string;
      readonly approval: Approval;
      readonly ticket?: KeyClaimTicket;
    }
  | { readonly kind: 'cancel'; readonly paymentId: string; readonly payerId: string }
  | { readonly kind: 'expire'; readonly paymentId: string };

/** What an operation answers: a creation its created payment; the others the payment after it. */
export type PaymentResult = CreatedPayment | { readonly payment: Payment; readonly changed: boolean };

/**
 * How an operation settled in a committed batch: its result, its refusal (an expected error, delivered as a
 * value so that its caller knows the batch committed), or that its idempotency key was claimed already.
 */
type Settled =
  | { readonly kind: 'result'; readonly result: PaymentResult }
  | { readonly kind: 'refused'; readonly error: unknown }
  | { readonly kind: 'key_taken' };

/** A command in the queue, with the per-payer throttle's verdict kept across re-runs of its batch. */
interface Queued {
  readonly command: PaymentCommand;
  throttle?: { readonly error: unknown } | 'counted';
}

/** The rules' answer for an approval whose attempt is not counted yet; never reaches a caller. */
const notCountedYet = new Error('the attempt is not counted yet');

/** The passkey challenges and passkeys a batch's passkey approvals name, locked. */
type PasskeyRows = ConstructorParameters<typeof PasskeyApprovals>[0];

/** The ledger's names as the services define them; transfer ids are keyed like every derived id. */
function ledgerNamesOf(keyedHash: KeyedHash): LedgerNames {
  return {
    payerWallet: (payerId, currency) => payerWallet(payerId, currency).id,
    payeeAccount: (payeeId, currency) => payeeAccount(payeeId, currency).id,
    post: (hold) => derivedId(keyedHash, 'post', hold),
    void: (hold) => derivedId(keyedHash, 'void', hold),
    expire: (hold) => expiryTransferId(keyedHash, hold),
  };
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

/** The audit head as the batch holds it, locked with the accounts. */
type AuditHead = Awaited<ReturnType<MethodDependencies['audit']['lockHeadIn']>>;

/** A new payment's codes: its first code, and the keyed hashes of the first code and of each second code. */
interface IssuedCodes {
  readonly firstCode: string;
  readonly insert: PaymentInsert;
}

/** The executor: submit operations; they are applied in batches through the one rulebook. */
export class PaymentExecutor {
  private readonly batcher: CommitBatcher<Queued, Settled>;
  private readonly ledgerNames: LedgerNames;

  constructor(
    private readonly deps: MethodDependencies,
    private readonly batching: CommitBatching,
    private readonly observers: readonly PaymentObserver[],
    log: (error: unknown, size: number) => void,
  ) {
    this.ledgerNames = ledgerNamesOf(deps.secrets.keyedHash);
    this.batcher = new CommitBatcher<Queued, Settled>(
      deps.database,
      { runMany: (tx, queued) => this.execute(tx, queued) },
      { ...batching.options, kindOf: (queued) => queued.command.kind, onBatchFailed: log },
    );
  }

  /** Counters of the batcher, per kind of operation and in all. */
  stats() {
    const byKind = (kind: PaymentCommand['kind']) => ({
      batches: 0,
      inputs: 0,
      batchSizeLargest: 0,
      inputsAlone: 0,
      batchesRolledBack: 0,
      ...this.batcher.statsByKind.get(kind),
    });
    return {
      creations: byKind('create'),
      approvals: byKind('approve'),
      cancellations: byKind('cancel'),
      expiries: byKind('expire'),
      all: { ...this.batcher.stats },
    };
  }

  /**
   * Applies one operation in the next batch; resolves once its batch has committed, or rejects with its
   * refusal. An operation with a `ticket` learns there whether its batch claimed the key.
   */
  async submit(command: PaymentCommand): Promise<PaymentResult> {
    const settled = await this.batcher.submit({ command });
    const ticket = 'ticket' in command ? command.ticket : undefined;
    if (ticket !== undefined) ticket.outcome = settled.kind === 'key_taken' ? 'taken' : 'held';
    if (settled.kind === 'key_taken') throw new IdempotencyKeyTaken();
    if (settled.kind === 'refused') throw settled.error;
    return settled.result;
  }

  /** Ids of open payments past their expiry, for the sweeper to submit as expiries. */
  selectDuePaymentIds(nowMs: number, limit: number): Promise<string[]> {
    return this.batching.store.selectDuePaymentIds(this.deps.database, nowMs, limit);
  }

  /**
   * One batch in one transaction; one outcome per operation, in order. The idempotency keys of the
   * operations that carry one are claimed first, in the round trip that loads the batch's rows; an
   * operation whose key is claimed already does not run.
   */
  private async execute(tx: SqlExecutor, queued: readonly Queued[]): Promise<BatchOutcome<Settled>[]> {
    const nowMs = this.deps.clock.nowMs();
    const operations = queued.map((q) => this.operationOf(q.command, nowMs));
    const [held, loaded] = await Promise.all([this.claimKeys(tx, queued), this.load(tx, operations)]);
    const kept = queued.flatMap((_, index) => (held[index] ? [index] : []));
    const outcomes: BatchOutcome<Settled>[] = queued.map(() => ({
      kind: 'done',
      value: { kind: 'key_taken' },
    }));
    if (kept.length === 0) return outcomes;
    const applied = await this.apply(
      tx,
      kept.map((index) => queued[index]!),
      kept.map((index) => operations[index]!),
      loaded,
      nowMs,
    );
    for (const [position, index] of kept.entries()) outcomes[index] = applied[position]!;
    return outcomes;
  }

  /**
   * Claims the keys of the operations that carry a ticket, in one statement; per operation, whether it
   * runs: an operation without a ticket always runs, one with a ticket only if its claim holds the key.
   */
  private async claimKeys(tx: SqlExecutor, queued: readonly Queued[]): Promise<boolean[]> {
    const claims = queued.map((q) => ('ticket' in q.command ? q.command.ticket?.claim : undefined));
    const held = await claimFirstOfEachKey(claims, (firsts) => this.batching.store.claimKeys(tx, firsts));
    return held.map((isHeld) => isHeld !== false);
  }

  /** The batch's operations that run, over the rows loaded for the batch. */
  private async apply(
    tx: SqlExecutor,
    queued: readonly Queued[],
    operations: readonly PaymentOperation[],
    loaded: Awaited<ReturnType<PaymentExecutor['load']>>,
    nowMs: number,
  ): Promise<BatchOutcome<Settled>[]> {
    const { deps } = this;
    const { book, material, passkeyRows } = loaded;
    const { decisions, passkeys } = await this.decide(queued, operations, book, passkeyRows, nowMs);
    const codes = await this.issueCodes(operations, decisions, material);
    const { planned, head } = await this.planTransfers(tx, operations, decisions, nowMs);
    const creations = concludeCreations(operations, decisions, planned.results);
    const created = [...creations].flatMap(([index, outcome]) =>
      outcome.kind === 'created' ? [{ index, ...codes.get(index)! }] : [],
    );
    await this.write(tx, { decisions, created, book, head }, planned.write, nowMs);
    await Promise.all([
      deps.passkeyStore.markChallengesUsed(tx, passkeys.usedChallengeIds, nowMs),
      deps.passkeyStore.recordSignCounts(tx, passkeys.signCounts, nowMs),
    ]);
    for (const { insert } of created) {
      for (const observer of this.observers) await observer.paymentCreatedIn(tx, insert.payment, nowMs);
    }
    for (const payment of decisions.effects.succeeded) {
      for (const observer of this.observers) await observer.paymentSucceededIn(tx, payment, nowMs);
    }
    const outcomes: BatchOutcome<Settled>[] = [];
    for (const [index, answer] of decisions.answers.entries()) {
      const outcome = await this.outcomeOf(tx, index, answer, {
        operations,
        decisions,
        creations,
        codes,
        book,
      });
      if (outcome.kind === 'alone') throw new Error('invariant: a payment operation answered alone');
      const value: Settled =
        outcome.kind === 'done'
          ? { kind: 'result', result: outcome.value }
          : { kind: 'refused', error: outcome.error };
      outcomes.push({ kind: 'done', value });
    }
    return outcomes;
  }

  private operationOf(command: PaymentCommand, nowMs: number): PaymentOperation {
    if (command.kind !== 'create') return command;
    const { creation } = command;
    const id =
      creation.idempotencyKey === undefined
        ? newId()
        : derivedId(this.deps.secrets.keyedHash, 'payment', creation.idempotencyKey);
    const payment = newPayment({
      ...creation,
      id,
      holdTransferId: derivedId(this.deps.secrets.keyedHash, 'hold', id),
      paymentRequestId: creation.paymentRequestId ?? null,
      metadata: creation.metadata ?? emptyMetadata,
      nowMs,
      codeTtlSeconds: this.deps.settings.codeTtlSeconds,
    });
    return { kind: 'create', payment };
  }

  /** Steps 1 and 2: the rows the batch needs, locked where the rules change them. */
  private async load(tx: SqlExecutor, operations: readonly PaymentOperation[]) {
    const { store } = this.batching;
    const created = operations.flatMap((o) => (o.kind === 'create' ? [o.payment] : []));
    const named = unique(operations.flatMap((o) => (o.kind === 'create' ? [] : [o.paymentId])));
    const [locked, existing, payeeNames, material] = await Promise.all([
      named.length === 0 ? new Map<string, LockedPayment>() : store.lockPayments(tx, named),
      created.length === 0
        ? new Map<string, Payment>()
        : store.selectPayments(tx, unique(created.map((p) => p.id))),
      created.length === 0
        ? new Map<string, string>()
        : store.selectPayeeNames(tx, unique(created.map((p) => p.payeeId))),
      created.length === 0
        ? new Map<string, PayerCodeMaterial>()
        : store.selectCodeMaterial(tx, unique(created.map((p) => p.payerId))),
    ]);
    const approvingPayers = unique(
      operations.flatMap((o) => {
        const payerId = o.kind === 'approve' ? locked.get(o.paymentId)?.payment.payerId : undefined;
        return payerId === undefined ? [] : [payerId];
      }),
    );
    const attempts = await this.deps.partyStore.lockAttemptStates(tx, approvingPayers);
    const book: PaymentBook = { locked, existing, payeeNames, attempts };
    const assertions = operations.flatMap((o) =>
      o.kind === 'approve' && 'passkey' in o.approval ? [o.approval.passkey] : [],
    );
    const passkeyRows: PasskeyRows =
      assertions.length === 0
        ? { challenges: new Map(), passkeys: new Map() }
        : await this.deps.passkeyStore.lockForApprovals(
            tx,
            unique(assertions.map((a) => a.challengeId)),
            unique(assertions.map((a) => a.credentialId)),
          );
    return { book, material, passkeyRows };
  }

  /**
   * Step 3: the rules' decisions. The rules ask for the per-payer throttle's verdict synchronously, at the
   * moment they reach an approval's attempt; the counter may be a shared store, answered asynchronously. So
   * a pass that reaches approvals not counted yet answers them "not counted" (as if refused: nothing of
   * theirs changes), their attempts are counted in one call, and the rules run again over the same locked
   * rows with the verdicts. Where to count stays the rules' decision alone. Usually two passes: the first
   * changes the least, so a later pass reaches no approval the first did not; the loop is bounded anyway,
   * since every pass but the last counts at least one more operation. An approval counted in the first pass
   * whose payment an earlier approval of the same batch then settles was still an attempt on that payer.
   */
  private async decide(
    queued: readonly Queued[],
    operations: readonly PaymentOperation[],
    book: PaymentBook,
    passkeyRows: PasskeyRows,
    nowMs: number,
  ): Promise<{ decisions: PaymentDecisions; passkeys: PasskeyApprovals }> {
    const { deps } = this;
    for (let pass = 0; pass <= queued.length; pass += 1) {
      // The comparisons change the passkey rows (a challenge is used up), so each pass starts from the locked rows.
      const passkeys = new PasskeyApprovals(passkeyRows);
      const uncounted: { index: number; payerId: string }[] = [];
      const decisions = decidePayments(
        operations,
        book,
        {
          nowMs,
          attemptPolicy: deps.settings.attemptPolicy,
          codesMatch: (locked, approval) =>
            'passkey' in approval
              ? passkeys.compare(locked.payment, approval.passkey, nowMs)
              : this.codesMatch(locked, approval),
          throttle: (index, payerId) => {
            const verdict = queued[index]!.throttle;
            if (verdict !== undefined) return verdict === 'counted' ? undefined : verdict.error;
            uncounted.push({ index, payerId });
            return notCountedYet;
          },
        },
        this.ledgerNames,
      );
      if (uncounted.length === 0) return { decisions, passkeys };
      await this.countAttempts(queued, uncounted, nowMs);
    }
    throw new Error('invariant: the throttle asked for more attempts than the batch has operations');
  }

  /**
   * Step 4: the ledger's plan, with the audit head locked in the same round trip as the accounts (the
   * last lock of the batch), so that the audit entries can go with the writes; a payee's first payment in
   * a currency opens its account, then plans again.
   */
  private async planTransfers(
    tx: SqlExecutor,
    operations: readonly PaymentOperation[],
    decisions: PaymentDecisions,
    nowMs: number,
  ) {
    const { ledgerStore, audit } = this.deps;
    const { transfers } = decisions.effects;
    let head: AuditHead | undefined;
    const lockHead = async () => {
      head = await audit.lockHeadIn(tx);
    };
    const first = await ledgerStore.planTransfersIn(tx, transfers, nowMs, lockHead);
    if (head === undefined) throw new Error('invariant: the audit head was not locked with the accounts');
    const accounts = decisions.answers.flatMap((answer, index) => {
      const operation = operations[index]!;
      if (answer.kind !== 'pending_hold' || operation.kind !== 'create') return [];
      const result = first.results[answer.transferIndex]!;
      if (result.status !== 'failed' || result.error !== 'credit_account_not_found') return [];
      return [payeeAccount(operation.payment.payeeId, operation.payment.currency)];
    });
    if (accounts.length === 0) return { planned: first, head };
    await ledgerStore.insertAccounts(tx, accounts, nowMs);
    return { planned: await ledgerStore.planTransfersIn(tx, transfers, nowMs), head };
  }

  /**
   * Step 3's crypto, before the ledger locks any account: for each creation that goes to the ledger, a first
   * code (distinct among the batch's payments of one payer) and the keyed hash of the second code each of the
   * payer's active terminals computes for it.
   */
  private async issueCodes(
    operations: readonly PaymentOperation[],
    decisions: PaymentDecisions,
    material: ReadonlyMap<string, PayerCodeMaterial>,
  ): Promise<Map<number, IssuedCodes>> {
    const { secrets } = this.deps;
    const opened = new Map<string, CodeMaterial>();
    const taken = new Set<string>();
    const issued = new Map<number, IssuedCodes>();
    for (const [index, answer] of decisions.answers.entries()) {
      const operation = operations[index]!;
      if (answer.kind !== 'pending_hold' || operation.kind !== 'create') continue;
      const { payment } = operation;
      const sealed = material.get(payment.payerId);
      if (sealed === undefined)
        throw new Error(`invariant: authenticated payer ${payment.payerId} does not exist`);
      let entry = opened.get(payment.payerId);
      if (entry === undefined) {
        entry = openCodeMaterial(secrets, payment.payerId, sealed);
        opened.set(payment.payerId, entry);
      }
      let firstCode: string;
      let firstCodeHash: string;
      // Bounded by the batch: at most one draw more than the payer's payments in it.
      do {
        firstCode = generateFirstCode();
        firstCodeHash = secrets.keyedHash('first_code', payment.payerId, firstCode);
      } while (taken.has(firstCodeHash));
      taken.add(firstCodeHash);
      const hashes = await secondCodeHashes(secrets, payment.id, firstCode, entry);
      issued.set(index, { firstCode, insert: { payment, firstCodeHash, secondCodeHashes: hashes } });
    }
    return issued;
  }

  /** Step 5: every write and the audit entries in one round trip, while the accounts and the head are locked. */
  private async write(
    tx: SqlExecutor,
    batch: {
      decisions: PaymentDecisions;
      created: readonly ({ index: number } & IssuedCodes)[];
      book: PaymentBook;
      head: AuditHead;
    },
    writeLedger: () => Promise<void>,
    nowMs: number,
  ): Promise<void> {
    const { deps } = this;
    const { decisions, created, book, head } = batch;
    const { effects } = decisions;
    const deliveries = created.flatMap(({ insert, firstCode }) =>
      insert.payment.deliverTo === 'second_terminal'
        ? [
            firstCodeDelivery(
              deps.secrets,
              insert.payment,
              firstCode,
              book.payeeNames.get(insert.payment.payeeId)!,
              nowMs,
            ),
          ]
        : [],
    );
    const events: AuditEvent[] = [];
    for (const { insert } of created) {
      events.push(
        {
          event: 'code_issued',
          subject: insert.payment.payerId,
          detail: { paymentId: insert.payment.id, deliverTo: insert.payment.deliverTo },
        },
        statusEvent(insert.payment, 'requires_approval'),
      );
    }
    events.push(...effects.events);
    const statuses = [...effects.statuses].map(([paymentId, change]) => ({ paymentId, ...change }));
    // In an order the foreign keys accept: transfers, then payments, then what names a payment; the audit
    // entries last.
    const [, inserted] = await Promise.all([
      writeLedger(),
      this.batching.store.insertPayments(
        tx,
        created.map((c) => c.insert),
      ),
      ...deliveries.map((delivery) => deps.paymentStore.insertDelivery(tx, delivery)),
      // Sent to every server when this transaction commits, never before: see challenge-relay.ts.
      deps.challengeNotifications?.announceIn(
        tx,
        deliveries.flatMap((delivery) => (delivery.paymentId === null ? [] : [delivery.paymentId])),
      ),
      this.batching.store.updatePaymentStatuses(tx, statuses, nowMs),
      deps.partyStore.saveAttemptStates(tx, effects.attempts, nowMs),
      head.writeIn(tx, events, nowMs),
    ]);
    // A payment not inserted met an open first code of its payer (about 1 in 10^8 per open payment): the
    // batch rolls back and is split; the operation draws a new code when its half runs again.
    if (inserted.size !== created.length) throw new Error('first code taken by an open payment of the payer');
  }

  private async outcomeOf(
    tx: SqlExecutor,
    index: number,
    answer: Answer,
    batch: {
      operations: readonly PaymentOperation[];
      decisions: PaymentDecisions;
      creations: ReadonlyMap<number, CreationOutcome>;
      codes: ReadonlyMap<number, IssuedCodes>;
      book: PaymentBook;
    },
  ): Promise<BatchOutcome<PaymentResult>> {
    const payeeName = (payment: Payment) => batch.book.payeeNames.get(payment.payeeId) ?? '';
    switch (answer.kind) {
      case 'payment': {
        const changed = batch.decisions.effects.statuses.has(answer.payment.id);
        return { kind: 'done', value: { payment: answer.payment, changed } };
      }
      case 'existing':
        return { kind: 'done', value: { payment: answer.payment, payeeName: payeeName(answer.payment) } };
      case 'same_as': {
        const first = batch.creations.get(answer.index);
        if (first?.kind !== 'created')
          return this.outcomeOf(tx, answer.index, batch.decisions.answers[answer.index]!, batch);
        return { kind: 'done', value: { payment: first.payment, payeeName: payeeName(first.payment) } };
      }
      case 'refused':
        return {
          kind: 'failed',
          error: new CountersignError(answer.refusal.code, refusalOptions(answer.refusal)),
        };
      case 'throttled':
        return { kind: 'failed', error: answer.error };
      case 'pending_hold': {
        const outcome = batch.creations.get(index);
        if (outcome === undefined) throw new Error('invariant: a creation without an outcome');
        if (outcome.kind === 'insufficient_funds') {
          return { kind: 'failed', error: new CountersignError('insufficient_funds', { param: 'amount' }) };
        }
        if (outcome.kind === 'created_concurrently') {
          const payment = await this.deps.paymentStore.selectPayment(tx, outcome.paymentId, false);
          if (payment === undefined)
            throw new Error(`invariant: payment ${outcome.paymentId} has a hold but no row`);
          return { kind: 'done', value: { payment, payeeName: payeeName(payment) } };
        }
        const { firstCode } = batch.codes.get(index)!;
        const { payment } = outcome;
        return {
          kind: 'done',
          value: {
            payment,
            payeeName: payeeName(payment),
            ...(payment.deliverTo === 'first_terminal' ? { firstCode } : {}),
          },
        };
      }
    }
  }

  /**
   * Compares an approval's codes with the payment's, in constant time. Embodiment 1: the second code's
   * keyed hash against every active terminal's, without stopping at the first match. Embodiment 2: the first
   * code's hash and the verification code, both always checked, so that neither the answer nor its timing
   * tells which one was wrong.
   */
  private codesMatch(
    locked: LockedPayment,
    approval: Exclude<Approval, { readonly passkey: PasskeyAssertion }>,
  ): boolean {
    const { secrets } = this.deps;
    const { payment } = locked;
    if ('secondCode' in approval) {
      const candidate = secrets.keyedHash('second_code', payment.id, approval.secondCode);
      let match = false;
      for (const hash of locked.secondCodeHashes)
        match = secrets.constantTimeEqualHex(candidate, hash) || match;
      return match;
    }
    const pin = secrets.box
      .open(locked.verificationCodeSealed, verificationCodeLabel(payment.payerId))
      .toString('utf8');
    const firstOk = secrets.constantTimeEqualHex(
      secrets.keyedHash('first_code', payment.payerId, approval.firstCode),
      locked.firstCodeHash,
    );
    const pinOk = secrets.constantTimeEqualHex(
      secrets.keyedHash('verification_code', payment.payerId, approval.verificationCode),
      secrets.keyedHash('verification_code', payment.payerId, pin),
    );
    return firstOk && pinOk;
  }

  /**
   * Counts the attempts of `uncounted` with the per-payer throttle, in one call, and keeps each verdict on
   * its operation: counted once per operation even when its batch runs again.
   */
  private async countAttempts(
    queued: readonly Queued[],
    uncounted: readonly { index: number; payerId: string }[],
    nowMs: number,
  ): Promise<void> {
    const limiter = this.deps.payerRateLimiter;
    const refusals =
      limiter === undefined
        ? uncounted.map(() => undefined)
        : await limiter.attempts(
            uncounted.map((attempt) => attempt.payerId),
            nowMs,
          );
    for (const [position, { index }] of uncounted.entries()) {
      const refusal = refusals[position];
      queued[index]!.throttle = refusal === undefined ? 'counted' : { error: refusal };
    }
  }
}

/**
 * The passkey rows of one batch, locked, as the batch's approvals change them: a challenge compared is
 * used up (whatever the outcome, so that a replay is a wrong code), and a passkey that approved takes its
 * new signature counter. A second assertion of the same batch sees both changes, as it would in the next.
 */
class PasskeyApprovals {
  readonly usedChallengeIds: string[] = [];
  /** New signature counters by passkey id. */
  readonly signCounts = new Map<string, number>();
  private readonly challenges: Map<string, PasskeyChallengeState>;
  private readonly passkeys: Map<string, PasskeyState>;

  constructor(locked: {
    challenges: ReadonlyMap<string, PasskeyChallengeState>;
    passkeys: ReadonlyMap<string, PasskeyState>;
  }) {
    this.challenges = new Map(locked.challenges);
    this.passkeys = new Map(locked.passkeys);
  }

  /** Whether `assertion` approves `payment` now; called only under a reserved attempt. */
  compare(payment: Payment, assertion: PasskeyAssertion, nowMs: number): boolean {
    const challenge = this.challenges.get(assertion.challengeId);
    const passkey = this.passkeys.get(assertion.credentialId);
    const approves = passkeyApproves(payment, assertion, challenge, passkey, nowMs);
    // Only the payment's own challenge is used up: naming another payment's must not cancel that one.
    if (challenge !== undefined && challenge.paymentId === payment.id && challenge.usedAtMs === null) {
      this.challenges.set(challenge.id, { ...challenge, usedAtMs: nowMs });
      this.usedChallengeIds.push(challenge.id);
    }
    if (approves && passkey !== undefined) {
      this.passkeys.set(passkey.credentialId, { ...passkey, signCount: assertion.signCount });
      this.signCounts.set(passkey.id, assertion.signCount);
    }
    return approves;
  }
}

function refusalOptions(refusal: { param?: string; details?: Readonly<Record<string, string | number>> }) {
  return {
    ...(refusal.param === undefined ? {} : { param: refusal.param }),
    ...(refusal.details === undefined ? {} : { details: { ...refusal.details } }),
  };
}
