/**
 * What the payment services need from storage for payments, their codes and the delivery outbox.
 * `store/payment-repository` implements it in SQL; every function runs inside the caller's transaction.
 */
import type { Payment } from '../../domain/payment.js';
import type { SqlExecutor } from '../database.js';

/** A new payment row, with the keyed hashes of its codes. */
export interface PaymentInsert {
  readonly payment: Payment;
  readonly firstCodeHash: string;
  readonly secondCodeHashes: readonly { readonly terminalId: string; readonly hash: string }[];
}

/** A message for the delivery outbox. */
export interface DeliveryInsert {
  readonly id: string;
  readonly payerId: string;
  readonly paymentId: string | null;
  readonly channel: string;
  readonly payloadSealed: string;
  readonly nowMs: number;
}

/** Storage of payments, their codes and the delivery outbox. */
export interface PaymentStore {
  selectPayment(tx: SqlExecutor, id: string, lock: boolean): Promise<Payment | undefined>;
  insertDelivery(tx: SqlExecutor, delivery: DeliveryInsert): Promise<void>;
  /**
   * A payer's payments, newest first (by creation time, then id), at most `limit`; with `after`, only
   * those that come after that payment in this order (a keyset cursor: stable while payments are added).
   */
  listPayerPayments(
    tx: SqlExecutor,
    payerId: string,
    limit: number,
    after?: { readonly createdAtMs: number; readonly id: string },
  ): Promise<Payment[]>;
}
