/**
 * Payments approved with transaction codes (method steps 2–6), as use cases over the one executor.
 *
 * Creating a payment holds the amount and issues the first code. The platform at once computes the second
 * code each of the payer's active terminals will produce for it, and keeps only keyed hashes of the
 * first code and of those second codes: it never needs the first code again, and a database dump does not
 * reveal a code. Approval compares keyed hashes in constant time under a reserved attempt, posts the hold
 * on success, and counts a failure against the payment (3 fail it) and against the payer (5 in a row lock
 * the payer). The rules live in `domain/payment-rules.ts`; `payment-executor.ts` applies them in batches.
 */

import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { checkMetadata } from '../../domain/metadata.js';
import { assertMoney } from '../../domain/money.js';
import type { Payment } from '../../domain/payment.js';
import type { Approval } from '../../domain/payment-rules.js';
import type { KeyClaimTicket } from '../idempotency/idempotency-store.js';
import type { MethodDependencies } from '../method-dependencies.js';
import type { CommitBatching } from './payment-batch-store.js';
import {
  type CreatedPayment,
  type PaymentCommand,
  type PaymentCreation,
  PaymentExecutor,
  type PaymentObserver,
  type PaymentResult,
} from './payment-executor.js';

export type { Approval, CreatedPayment, PaymentCreation, PaymentObserver };

/** Where the executor reports a batch that threw (it is split and run again; the cause is worth a look). */
export interface BatchFailureReporter {
  warn(details: { err: unknown; operations: number }, message: string): void;
}

/** Use cases of payments. */
export class PaymentService {
  private readonly observers: PaymentObserver[] = [];
  private readonly reporters: BatchFailureReporter[] = [];
  private readonly executor: PaymentExecutor;

  constructor(
    private readonly deps: MethodDependencies,
    batching: CommitBatching,
  ) {
    this.executor = new PaymentExecutor(deps, batching, this.observers, (err, operations) => {
      for (const reporter of this.reporters) {
        reporter.warn({ err, operations }, 'a payment batch rolled back; it is split and run again');
      }
    });
  }

  /** Counters of the executor's batches, per kind of operation and in all. */
  batchStats() {
    return this.executor.stats();
  }

  /** Adds an observer of payments (wired once, at start). */
  observe(observer: PaymentObserver): void {
    this.observers.push(observer);
  }

  /** Reports batches that rolled back to `reporter` (the server's log; wired once, at start). */
  reportBatchFailuresTo(reporter: BatchFailureReporter): void {
    this.reporters.push(reporter);
  }

  /**
   * Holds the amount and issues the first code. The payer is authenticated by the caller. With a `ticket`,
   * the request's idempotency key is claimed in the payment's own transaction (see `KeyClaimTicket`).
   */
  async create(creation: PaymentCreation, ticket?: KeyClaimTicket): Promise<CreatedPayment> {
    assertMoney(creation.amount, creation.currency);
    const metadata = checkMetadata(creation.metadata);
    const command = { kind: 'create', creation: { ...creation, metadata } } as const;
    return (await this.submit(ticket === undefined ? command : { ...command, ticket })) as CreatedPayment;
  }

  /**
   * Approves a payment with either embodiment's codes. A payment no longer `requires_approval` answers
   * `payment_not_approvable`; a locked payer (or one whose every attempt slot is taken) `payer_locked`.
   * A `ticket` claims the request's idempotency key in the approval's transaction, as for `create`.
   */
  async approve(paymentId: string, approval: Approval, ticket?: KeyClaimTicket): Promise<Payment> {
    const command = { kind: 'approve', paymentId, approval } as const;
    return this.paymentOf(await this.submit(ticket === undefined ? command : { ...command, ticket }));
  }

  /** Cancels an open payment of `payerId` and voids its hold. Someone else's payment is not found. */
  async cancel(paymentId: string, payerId: string): Promise<Payment> {
    return this.paymentOf(await this.submit({ kind: 'cancel', paymentId, payerId }));
  }

  private submit(command: PaymentCommand): Promise<PaymentResult> {
    return this.executor.submit(command);
  }

  private paymentOf(result: PaymentResult): Payment {
    return result.payment;
  }

  /** A payment, for the operator (no `payerId`) or for its own payer. */
  async get(paymentId: string, payerId?: string): Promise<Payment> {
    const payment = await this.deps.paymentStore.selectPayment(this.deps.database, paymentId, false);
    if (payment === undefined || (payerId !== undefined && payment.payerId !== payerId)) {
      throw new CountersignError('payment_not_found');
    }
    return payment;
  }

  /**
   * Expires open payments past their expiry, at most `limit` per pass, through the executor like every
   * other operation (several servers may sweep at once: the executor locks each payment, and one that
   * another server expired first is left as it is). Returns how many this pass expired.
   */
  async expireDue(limit: number = limits.sweepBatchSizeMax): Promise<number> {
    const nowMs = this.deps.clock.nowMs();
    const due = await this.executor.selectDuePaymentIds(nowMs, Math.min(limit, limits.sweepBatchSizeMax));
    const results = await Promise.all(due.map((paymentId) => this.submit({ kind: 'expire', paymentId })));
    return results.filter((result) => 'changed' in result && result.changed).length;
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
