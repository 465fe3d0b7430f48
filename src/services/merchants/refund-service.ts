/**
 * Refunds and the merchant's balance. A refund gives back all or part of one of the merchant's succeeded
 * payments, never more than is left of it: the payment's row is locked while its refunds are summed, so two
 * refunds of one payment are serialized. The money moves in one ledger transfer from the merchant's account
 * to the payer's wallet; the account may not go below zero, so a merchant cannot refund what it no longer
 * holds. The refund row, the transfer, the audit entry and the `refund.succeeded` event commit together.
 */

import { CountersignError } from '../../domain/errors.js';
import { type ListCursor, type Page, pageOf } from '../../domain/merchant.js';
import { checkMetadata, emptyMetadata, type Metadata } from '../../domain/metadata.js';
import { amountToJson } from '../../domain/money.js';
import type { Payment } from '../../domain/payment.js';
import { type Refund, refundAmount } from '../../domain/refund.js';
import type { SqlExecutor } from '../database.js';
import { derivedId, newId } from '../ids.js';
import { payeeAccount, payerWallet } from '../ledger/accounts.js';
import type { WebhookService } from '../webhooks/webhook-service.js';
import type { MerchantDependencies } from './merchant-dependencies.js';

/** A refund as a merchant asks for it; without an amount, everything left is refunded. */
export interface RefundCreation {
  readonly paymentId: string;
  readonly amount?: bigint | undefined;
  readonly metadata?: Metadata | undefined;
}

/** The merchant-facing JSON of a refund. It never names the payer. */
export function refundObject(refund: Refund): Record<string, unknown> {
  return {
    id: refund.id,
    object: 'refund',
    paymentId: refund.paymentId,
    amount: amountToJson(refund.amount),
    currency: refund.currency,
    status: refund.status,
    metadata: refund.metadata,
    createdAt: new Date(refund.createdAtMs).toISOString(),
  };
}

/** Refunds and balances of merchants. */
export class RefundService {
  constructor(
    private readonly deps: MerchantDependencies,
    private readonly webhooks: WebhookService,
  ) {}

  /**
   * Refunds a payment of the merchant's. With an idempotency key the refund's id is derived from it, so a
   * retry returns the first refund instead of refunding twice.
   */
  async create(merchantId: string, creation: RefundCreation, idempotencyKey?: string): Promise<Refund> {
    const id =
      idempotencyKey === undefined
        ? newId()
        : derivedId(this.deps.secrets.keyedHash, 'refund', merchantId, idempotencyKey);
    // Checked before the transaction: bad metadata refunds nothing and locks nothing.
    const metadata = checkMetadata(creation.metadata);
    return this.deps.database.transaction((tx) =>
      this.refundIn(tx, id, merchantId, { ...creation, metadata }),
    );
  }

  private async refundIn(
    tx: SqlExecutor,
    id: string,
    merchantId: string,
    creation: RefundCreation,
  ): Promise<Refund> {
    const { clock, paymentStore, refundStore } = this.deps;
    const payment = await paymentStore.selectPayment(tx, creation.paymentId, true);
    if (payment === undefined || payment.payeeId !== merchantId) {
      throw new CountersignError('payment_not_found', { param: 'paymentId' });
    }
    // Looked up under the payment's lock, so that two concurrent retries of one refund find each other.
    const existing = await refundStore.selectRefund(tx, id);
    if (existing !== undefined) return sameRefund(existing, merchantId, creation);
    if (payment.status !== 'succeeded') {
      throw new CountersignError('payment_not_refundable', { details: { status: payment.status } });
    }
    const amount = await this.refundableAmount(tx, payment, creation.amount);
    const nowMs = clock.nowMs();
    await this.transferRefund(tx, id, payment, amount, nowMs);
    const refund: Refund = {
      id,
      merchantId,
      paymentId: payment.id,
      amount,
      currency: payment.currency,
      status: 'succeeded',
      metadata: creation.metadata ?? emptyMetadata,
      createdAtMs: nowMs,
    };
    await this.recordRefund(tx, refund);
    return refund;
  }

  /** What the refund gives back: `asked`, or all that is left; `refund_exceeds_remaining` past that. */
  private async refundableAmount(
    tx: SqlExecutor,
    payment: Payment,
    asked: bigint | undefined,
  ): Promise<bigint> {
    const refunded = await this.deps.refundStore.sumRefunded(tx, payment.id);
    const decided = refundAmount(payment.amount, refunded, asked);
    if ('refusal' in decided) {
      throw new CountersignError('refund_exceeds_remaining', {
        param: 'amount',
        details: { remaining: Number(decided.remaining) },
      });
    }
    return decided.amount;
  }

  /**
   * Moves the refund from the merchant's account to the payer's wallet in one transfer whose id is the
   * refund's. The account may not go below zero: a merchant cannot refund what it no longer holds.
   */
  private async transferRefund(
    tx: SqlExecutor,
    id: string,
    payment: Payment,
    amount: bigint,
    nowMs: number,
  ): Promise<void> {
    const { ledgerStore } = this.deps;
    const merchantAccount = payeeAccount(payment.payeeId, payment.currency);
    const wallet = payerWallet(payment.payerId, payment.currency);
    await ledgerStore.insertAccounts(tx, [merchantAccount, wallet], nowMs);
    const [result] = await ledgerStore.createTransfersIn(
      tx,
      [
        {
          id,
          kind: 'single',
          debitAccountId: merchantAccount.id,
          creditAccountId: wallet.id,
          amount,
          reference: `refund:${payment.id}`,
        },
      ],
      nowMs,
    );
    if (result?.status === 'failed') {
      if (result.error === 'exceeds_credits') {
        throw new CountersignError('merchant_balance_insufficient', { param: 'amount' });
      }
      throw new Error(`invariant: refund ${id} refused by the ledger: ${result.error}`);
    }
  }

  /** Writes the refund's row, its audit entry and its `refund.succeeded` event, in the same transaction. */
  private async recordRefund(tx: SqlExecutor, refund: Refund): Promise<void> {
    const { id, merchantId, paymentId, amount, currency, createdAtMs } = refund;
    if ((await this.deps.refundStore.insertRefund(tx, refund)) === 'exists') {
      throw new Error(`invariant: refund ${id} appeared while its payment was locked`);
    }
    await this.deps.audit.appendIn(
      tx,
      [
        {
          event: 'refund_created',
          subject: paymentId,
          detail: { refundId: id, merchantId, amount: amount.toString(), currency },
        },
      ],
      createdAtMs,
    );
    await this.webhooks.enqueueIn(tx, merchantId, 'refund.succeeded', id, refundObject(refund), createdAtMs);
  }

  /** A refund of the merchant's; `refund_not_found` otherwise. */
  async get(merchantId: string, refundId: string): Promise<Refund> {
    const refund = await this.deps.refundStore.selectRefund(this.deps.database, refundId);
    if (refund === undefined || refund.merchantId !== merchantId)
      throw new CountersignError('refund_not_found');
    return refund;
  }

  /** The merchant's refunds, newest first. */
  async list(merchantId: string, limit: number, startingAfter?: string): Promise<Page<Refund>> {
    const { database, refundStore } = this.deps;
    let cursor: ListCursor | undefined;
    if (startingAfter !== undefined) {
      const after = await refundStore.selectRefund(database, startingAfter);
      if (after === undefined || after.merchantId !== merchantId) {
        throw new CountersignError('invalid_request', {
          param: 'starting_after',
          message: 'starting_after must be the id of an object in this list.',
        });
      }
      cursor = after;
    }
    return pageOf(await refundStore.listRefunds(database, merchantId, limit + 1, cursor), limit);
  }

  /** The merchant's balance in one currency: what it holds, and what open payments will bring. */
  balance(merchantId: string, currency: string): Promise<{ available: bigint; incoming: bigint }> {
    return this.deps.parties.payeeBalance(merchantId, currency);
  }
}

/** A retried refund: the same request gets the first refund; a different one with the same key is refused. */
function sameRefund(existing: Refund, merchantId: string, creation: RefundCreation): Refund {
  const same =
    existing.merchantId === merchantId &&
    existing.paymentId === creation.paymentId &&
    (creation.amount === undefined || creation.amount === existing.amount);
  if (!same) throw new CountersignError('idempotency_key_reused', { param: 'Idempotency-Key' });
  return existing;
}
