/**
 * Payments approved with transaction codes (method steps 2–6).
 *
 * Creating a payment holds the amount and issues the first code. The platform at once computes the second
 * code each of the payer's active terminals will produce for it, and keeps only keyed hashes of the
 * first code and of those second codes: it never needs the first code again, and a database dump does not
 * reveal a code. Approval compares keyed hashes in constant time, posts the hold on success, and counts a
 * failure against the payment (3 fail it) and against the payer (5 in a row lock the payer).
 */
import { approvalFailuresBeforePaymentFails } from '../domain/attempts.js';
import { CountersignError } from '../domain/errors.js';
import { generateFirstCode } from '../domain/first-code.js';
import type { TransferResult } from '../domain/ledger.js';
import { limits } from '../domain/limits.js';
import type { DeliverTo, Payment, PaymentStatus } from '../domain/payment.js';
import type { SqlExecutor } from '../store/database.js';
import { payeeAccount, payerWallet } from './accounts.js';
import type { AuthenticationService } from './authentication-service.js';
import { derivedId, newId } from './ids.js';
import { expiryTransferId } from './ledger-service.js';
import type { AuditEvent, MethodDependencies } from './method-dependencies.js';
import { assertMoney, verificationCodeLabel } from './party-service.js';
import { PaymentBatches } from './payment-batches.js';
import { type CodeMaterial, firstCodeDelivery, openCodeMaterial, secondCodeHashes } from './second-codes.js';

/** A payment as asked for by an authenticated payer. */
export interface PaymentCreation {
  readonly payerId: string;
  readonly payeeId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly deliverTo: DeliverTo;
  readonly paymentRequestId?: string;
  /** Scoped idempotency key of the request; the payment's id is derived from it. */
  readonly idempotencyKey?: string;
}

/** A created payment; the first code only when it goes to the first terminal, and only this once. */
export interface CreatedPayment {
  readonly payment: Payment;
  readonly firstCode?: string;
  readonly payeeName: string;
}

/** The codes an approval carries: embodiment 1 or embodiment 2. */
export type Approval =
  | { readonly secondCode: string }
  | { readonly firstCode: string; readonly verificationCode: string };

/** Attempts at drawing a first code not already open for the payer (collisions are about 1 in 10^8). */
const firstCodeDrawsMax = 5;

function notApprovable(status: PaymentStatus): CountersignError {
  return new CountersignError('payment_not_approvable', { details: { status } });
}

/**
 * Told of a payment's creation and success inside the transaction that makes them, so that what depends
 * on a payment (a merchant's payment request, its webhook event) commits or rolls back with it. Throwing
 * refuses the change: the whole transaction rolls back.
 */
export interface PaymentObserver {
  paymentCreatedIn(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void>;
  paymentSucceededIn(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void>;
}

/** Use cases of payments. */
export class PaymentService {
  private readonly observers: PaymentObserver[] = [];
  /** Group commit of the plain case (`payment-batches.ts`); undefined runs every payment alone. */
  private readonly batches: PaymentBatches | undefined;

  constructor(
    private readonly deps: MethodDependencies,
    private readonly authentication: AuthenticationService,
  ) {
    this.batches =
      deps.commitBatching === undefined
        ? undefined
        : new PaymentBatches(deps, deps.commitBatching, {
            observers: this.observers,
            createAlone: (creation) => this.createAlone(creation),
            approveAlone: (paymentId, approval) => this.approveAlone(paymentId, approval),
            cancelAlone: (paymentId, payerId) => this.cancelAlone(paymentId, payerId),
          });
  }

  /** Counters of group commit, or undefined when it is off. */
  batchStats() {
    return this.batches?.stats();
  }

  /** Adds an observer of payments (wired once, at start). */
  observe(observer: PaymentObserver): void {
    this.observers.push(observer);
  }

  /** Holds the amount and issues the first code. The payer is authenticated by the caller. */
  async create(creation: PaymentCreation): Promise<CreatedPayment> {
    assertMoney(creation.amount, creation.currency);
    // A payment of a merchant's request locks the request: it takes the reference path.
    if (this.batches !== undefined && creation.paymentRequestId === undefined) {
      return this.batches.create(creation);
    }
    return this.createAlone(creation);
  }

  /** The reference path of `create`: one payment in one transaction of its own. */
  async createAlone(creation: PaymentCreation): Promise<CreatedPayment> {
    const { database, clock, partyStore, settings } = this.deps;
    assertMoney(creation.amount, creation.currency);
    const payee = await partyStore.selectPayee(database, creation.payeeId);
    if (payee === undefined) throw new CountersignError('payee_not_found', { param: 'payeeId' });
    const codes = await this.codeMaterial(creation.payerId);
    const paymentId =
      creation.idempotencyKey === undefined ? newId() : derivedId('payment', creation.idempotencyKey);
    const nowMs = clock.nowMs();
    const payment: Payment = {
      id: paymentId,
      payerId: creation.payerId,
      payeeId: creation.payeeId,
      amount: creation.amount,
      currency: creation.currency,
      status: 'requires_approval',
      deliverTo: creation.deliverTo,
      holdTransferId: derivedId('hold', paymentId),
      failedApprovals: 0,
      paymentRequestId: creation.paymentRequestId ?? null,
      createdAtMs: nowMs,
      expiresAtMs: nowMs + settings.codeTtlSeconds * 1000,
      updatedAtMs: nowMs,
    };
    return database.transaction(async (tx) => {
      // A retry of a creation that committed (its answer lost to a crash or a timeout) finds the payment
      // first: holding again would ask for the same hold id with a later timeout, which the ledger refuses.
      if (creation.idempotencyKey !== undefined) {
        const existing = await this.deps.paymentStore.selectPayment(tx, paymentId, false);
        if (existing !== undefined) return { payment: existing, payeeName: payee.name };
      }
      await this.hold(tx, payment, nowMs);
      for (let draw = 0; draw < firstCodeDrawsMax; draw++) {
        const firstCode = generateFirstCode();
        const outcome = await this.deps.paymentStore.insertPayment(tx, {
          payment,
          firstCodeHash: this.firstCodeHash(payment.payerId, firstCode),
          secondCodeHashes: await secondCodeHashes(this.deps.secrets, paymentId, firstCode, codes),
        });
        if (outcome === 'exists') return this.existing(tx, paymentId, payee.name);
        if (outcome === 'code_collision') continue;
        await this.issued(tx, payment, firstCode, payee.name, nowMs);
        for (const observer of this.observers) await observer.paymentCreatedIn(tx, payment, nowMs);
        return {
          payment,
          payeeName: payee.name,
          ...(payment.deliverTo === 'first_terminal' ? { firstCode } : {}),
        };
      }
      throw new Error('invariant: no free first code after repeated draws');
    });
  }

  private async existing(tx: SqlExecutor, paymentId: string, payeeName: string): Promise<CreatedPayment> {
    const payment = await this.deps.paymentStore.selectPayment(tx, paymentId, false);
    if (payment === undefined) throw new Error(`invariant: payment ${paymentId} vanished`);
    return { payment, payeeName };
  }

  private async hold(tx: SqlExecutor, payment: Payment, nowMs: number): Promise<void> {
    const wallet = payerWallet(payment.payerId, payment.currency);
    const payee = payeeAccount(payment.payeeId, payment.currency);
    await this.deps.ledgerStore.insertAccounts(tx, [wallet, payee], nowMs);
    const [result] = await this.deps.ledgerStore.createTransfersIn(
      tx,
      [
        {
          id: payment.holdTransferId,
          kind: 'pending',
          debitAccountId: wallet.id,
          creditAccountId: payee.id,
          amount: payment.amount,
          timeoutAtMs: payment.expiresAtMs,
          reference: `payment:${payment.id}`,
        },
      ],
      nowMs,
    );
    if (result?.status === 'failed') {
      if (result.error === 'exceeds_credits')
        throw new CountersignError('insufficient_funds', { param: 'amount' });
      throw new Error(`invariant: hold for payment ${payment.id} refused: ${result.error}`);
    }
  }

  private async issued(
    tx: SqlExecutor,
    payment: Payment,
    firstCode: string,
    payeeName: string,
    nowMs: number,
  ) {
    if (payment.deliverTo === 'second_terminal') {
      const delivery = firstCodeDelivery(this.deps.secrets, payment, firstCode, payeeName, nowMs);
      await this.deps.paymentStore.insertDelivery(tx, delivery);
    }
    const events: AuditEvent[] = [
      {
        event: 'code_issued',
        subject: payment.payerId,
        detail: { paymentId: payment.id, deliverTo: payment.deliverTo },
      },
      statusEvent(payment, 'requires_approval'),
    ];
    await this.deps.audit.appendIn(tx, events, nowMs);
  }

  /** The payer's terminal keys and verification code, opened once per payment creation. */
  private async codeMaterial(payerId: string): Promise<CodeMaterial> {
    const { database, partyStore, secrets } = this.deps;
    const payer = await partyStore.selectPayer(database, payerId);
    if (payer === undefined) throw new Error(`invariant: authenticated payer ${payerId} does not exist`);
    const terminals = await partyStore.selectActiveTerminals(database, payerId);
    return openCodeMaterial(secrets, payerId, {
      verificationCodeSealed: payer.verificationCodeSealed,
      terminals,
    });
  }

  private firstCodeHash(payerId: string, firstCode: string): string {
    return this.deps.secrets.keyedHash('first_code', payerId, firstCode);
  }

  private secondCodeHash(paymentId: string, secondCode: string): string {
    return this.deps.secrets.keyedHash('second_code', paymentId, secondCode);
  }

  /**
   * Approves a payment with either embodiment's codes. A payment no longer `requires_approval` answers
   * `payment_not_approvable` without looking at the codes; a locked payer answers `payer_locked`.
   */
  async approve(paymentId: string, approval: Approval): Promise<Payment> {
    if (this.batches !== undefined) return this.batches.approve(paymentId, approval);
    return this.approveAlone(paymentId, approval);
  }

  /** The reference path of `approve`: one approval, in transactions of its own. */
  async approveAlone(paymentId: string, approval: Approval): Promise<Payment> {
    const { database, paymentStore, clock } = this.deps;
    const payment = await paymentStore.selectPayment(database, paymentId, false);
    if (payment === undefined) throw new CountersignError('payment_not_found');
    if (payment.status !== 'requires_approval') throw notApprovable(payment.status);
    if (clock.nowMs() >= payment.expiresAtMs) {
      await this.expire(paymentId);
      throw notApprovable('expired');
    }
    this.deps.payerRateLimiter?.attempt(payment.payerId, clock.nowMs());
    await this.authentication.assertNotLocked(payment.payerId);
    const matched = await this.codesMatch(payment, approval);
    return matched ? this.succeed(paymentId) : this.countFailure(paymentId);
  }

  private async codesMatch(payment: Payment, approval: Approval): Promise<boolean> {
    const { database, paymentStore, partyStore, secrets } = this.deps;
    const stored = await paymentStore.selectCodeHashes(database, payment.id);
    if (stored === undefined) throw new Error(`invariant: payment ${payment.id} has no codes`);
    if ('secondCode' in approval) {
      const candidate = this.secondCodeHash(payment.id, approval.secondCode);
      // Every stored hash is compared, without stopping at the first match.
      let match = false;
      for (const hash of stored.secondCodeHashes)
        match = secrets.constantTimeEqualHex(candidate, hash) || match;
      return match;
    }
    const payer = await partyStore.selectPayer(database, payment.payerId);
    if (payer === undefined) throw new Error(`invariant: payer of payment ${payment.id} does not exist`);
    const pin = secrets.box
      .open(payer.verificationCodeSealed, verificationCodeLabel(payer.id))
      .toString('utf8');
    const firstOk = secrets.constantTimeEqualHex(
      this.firstCodeHash(payment.payerId, approval.firstCode),
      stored.firstCodeHash,
    );
    // Both factors are always checked: the answer and its timing never tell which one was wrong.
    const pinOk = secrets.constantTimeEqualHex(
      secrets.keyedHash('verification_code', payer.id, approval.verificationCode),
      secrets.keyedHash('verification_code', payer.id, pin),
    );
    return firstOk && pinOk;
  }

  private succeed(paymentId: string): Promise<Payment> {
    const { database, paymentStore, ledgerStore, clock, audit } = this.deps;
    return database.transaction(async (tx) => {
      const payment = await this.lockOpen(tx, paymentId);
      const nowMs = clock.nowMs();
      const [posted] = await ledgerStore.createTransfersIn(
        tx,
        [{ id: derivedId('post', payment.holdTransferId), kind: 'post', pendingId: payment.holdTransferId }],
        nowMs,
      );
      if (posted?.status === 'failed')
        throw new Error(`invariant: hold of ${paymentId} not postable: ${posted.error}`);
      await paymentStore.updatePaymentStatus(tx, paymentId, 'succeeded', payment.failedApprovals, nowMs);
      await this.authentication.recordSuccessIn(tx, payment.payerId);
      for (const observer of this.observers) await observer.paymentSucceededIn(tx, payment, nowMs);
      await audit.appendIn(
        tx,
        [
          { event: 'approval_succeeded', subject: payment.payerId, detail: { paymentId } },
          statusEvent(payment, 'succeeded'),
        ],
        nowMs,
      );
      return { ...payment, status: 'succeeded' as const, updatedAtMs: nowMs };
    });
  }

  /** Locks a payment that must still be open and unexpired; throws `payment_not_approvable` otherwise. */
  private async lockOpen(tx: SqlExecutor, paymentId: string): Promise<Payment> {
    const payment = await this.deps.paymentStore.selectPayment(tx, paymentId, true);
    if (payment === undefined) throw new CountersignError('payment_not_found');
    if (payment.status !== 'requires_approval') throw notApprovable(payment.status);
    if (this.deps.clock.nowMs() >= payment.expiresAtMs) throw notApprovable('expired');
    return payment;
  }

  private async countFailure(paymentId: string): Promise<never> {
    const { database, paymentStore, clock, audit } = this.deps;
    const payment = await database.transaction(async (tx) => {
      const open = await this.lockOpen(tx, paymentId);
      const nowMs = clock.nowMs();
      const failedApprovals = open.failedApprovals + 1;
      const failed = failedApprovals >= approvalFailuresBeforePaymentFails;
      if (failed) await this.release(tx, open, 'void', nowMs);
      await paymentStore.updatePaymentStatus(
        tx,
        paymentId,
        failed ? 'failed' : 'requires_approval',
        failedApprovals,
        nowMs,
      );
      const events: AuditEvent[] = [
        { event: 'approval_failed', subject: open.payerId, detail: { paymentId, failedApprovals } },
      ];
      if (failed) events.push(statusEvent(open, 'failed'));
      await audit.appendIn(tx, events, nowMs);
      return open;
    });
    await this.authentication.recordFailure(payment.payerId, 'approval_failed');
    throw new CountersignError('approval_failed');
  }

  private async release(
    tx: SqlExecutor,
    payment: Payment,
    kind: 'void' | 'expire',
    nowMs: number,
  ): Promise<void> {
    const id =
      kind === 'expire'
        ? expiryTransferId(payment.holdTransferId)
        : derivedId('void', payment.holdTransferId);
    const [result] = await this.deps.ledgerStore.createTransfersIn(
      tx,
      [{ id, kind, pendingId: payment.holdTransferId }],
      nowMs,
    );
    assertReleased(result, payment.id);
  }

  /** Cancels an open payment of `payerId` and voids its hold. Someone else's payment is not found. */
  async cancel(paymentId: string, payerId: string): Promise<Payment> {
    if (this.batches !== undefined) return this.batches.cancel(paymentId, payerId);
    return this.cancelAlone(paymentId, payerId);
  }

  /** The reference path of `cancel`: one cancellation in one transaction of its own. */
  async cancelAlone(paymentId: string, payerId: string): Promise<Payment> {
    const { database, paymentStore, clock, audit } = this.deps;
    return database.transaction(async (tx) => {
      const payment = await paymentStore.selectPayment(tx, paymentId, true);
      if (payment === undefined || payment.payerId !== payerId)
        throw new CountersignError('payment_not_found');
      if (payment.status !== 'requires_approval') {
        throw new CountersignError('payment_not_cancelable', { details: { status: payment.status } });
      }
      const nowMs = clock.nowMs();
      await this.release(tx, payment, 'void', nowMs);
      await paymentStore.updatePaymentStatus(tx, paymentId, 'canceled', payment.failedApprovals, nowMs);
      await audit.appendIn(tx, [statusEvent(payment, 'canceled')], nowMs);
      return { ...payment, status: 'canceled' as const, updatedAtMs: nowMs };
    });
  }

  /** A payment, for the operator (no `payerId`) or for its own payer. */
  async get(paymentId: string, payerId?: string): Promise<Payment> {
    const payment = await this.deps.paymentStore.selectPayment(this.deps.database, paymentId, false);
    if (payment === undefined || (payerId !== undefined && payment.payerId !== payerId)) {
      throw new CountersignError('payment_not_found');
    }
    return payment;
  }

  /** Expires one payment now if it is open and past its expiry (an approval that came too late). */
  private async expire(paymentId: string): Promise<void> {
    const { database, paymentStore, clock, audit } = this.deps;
    await database.transaction(async (tx) => {
      const payment = await paymentStore.selectPayment(tx, paymentId, true);
      const nowMs = clock.nowMs();
      if (payment === undefined || payment.status !== 'requires_approval' || nowMs < payment.expiresAtMs)
        return;
      await this.release(tx, payment, 'expire', nowMs);
      await paymentStore.updatePaymentStatus(tx, paymentId, 'expired', payment.failedApprovals, nowMs);
      await audit.appendIn(tx, [statusEvent(payment, 'expired')], nowMs);
    });
  }

  /**
   * Expires open payments past their expiry, at most `limit` per transaction; rows that another process
   * is expiring are skipped, so several servers never do the same work twice. Returns how many expired.
   */
  async expireDue(limit: number = limits.sweepBatchSizeMax): Promise<number> {
    const { database, paymentStore, ledgerStore, clock, audit } = this.deps;
    return database.transaction(async (tx) => {
      const nowMs = clock.nowMs();
      const due = await paymentStore.selectDuePayments(tx, nowMs, Math.min(limit, limits.sweepBatchSizeMax));
      if (due.length === 0) return 0;
      const results = await ledgerStore.createTransfersIn(
        tx,
        due.map((payment) => ({
          id: expiryTransferId(payment.holdTransferId),
          kind: 'expire' as const,
          pendingId: payment.holdTransferId,
        })),
        nowMs,
      );
      for (const [index, payment] of due.entries()) {
        assertReleased(results[index], payment.id);
        await paymentStore.updatePaymentStatus(tx, payment.id, 'expired', payment.failedApprovals, nowMs);
      }
      await audit.appendIn(
        tx,
        due.map((payment) => statusEvent(payment, 'expired')),
        nowMs,
      );
      return due.length;
    });
  }

  /**
   * One page of a payer's payments, newest first: at most `limit` (1 to `limits.pageSizeMax`), after the
   * payment `startingAfter` when given, which must be one of the payer's own payments.
   */
  async listForPayer(
    payerId: string,
    page: { readonly limit: number; readonly startingAfter?: string },
  ): Promise<{ payments: Payment[]; hasMore: boolean }> {
    const { database, paymentStore } = this.deps;
    const limit = Math.max(1, Math.min(page.limit, limits.pageSizeMax));
    let after: { createdAtMs: number; id: string } | undefined;
    if (page.startingAfter !== undefined) {
      const cursor = await paymentStore.selectPayment(database, page.startingAfter, false);
      // Someone else's payment is as unknown as one that does not exist.
      if (cursor === undefined || cursor.payerId !== payerId) {
        throw new CountersignError('invalid_request', {
          param: 'starting_after',
          message: 'starting_after must be the id of one of your payments.',
        });
      }
      after = { createdAtMs: cursor.createdAtMs, id: cursor.id };
    }
    // One row more than asked tells whether another page follows, without counting.
    const rows = await paymentStore.listPayerPayments(database, payerId, limit + 1, after);
    return { payments: rows.slice(0, limit), hasMore: rows.length > limit };
  }
}

function statusEvent(payment: Payment, status: PaymentStatus): AuditEvent {
  return {
    event: 'payment_status_changed',
    subject: payment.id,
    detail: { status, payerId: payment.payerId },
  };
}

/**
 * A hold is released (voided or expired) exactly once. The ledger's own sweeper may have expired it
 * first; any other refusal means the payment and the ledger disagree, which is a bug.
 */
function assertReleased(result: TransferResult | undefined, paymentId: string): void {
  if (result === undefined) throw new Error(`invariant: no ledger result for payment ${paymentId}`);
  if (result.status !== 'failed' || result.error === 'pending_transfer_expired') return;
  throw new Error(`invariant: hold of payment ${paymentId} could not be released: ${result.error}`);
}
