/**
 * A payment's life: created `requires_approval` with a hold, then exactly one of `succeeded` (hold
 * posted), `canceled`, `expired` or `failed` (hold voided). Terminal states never change again.
 */

import type { Metadata } from './metadata.js';

export type PaymentStatus = 'requires_approval' | 'succeeded' | 'canceled' | 'expired' | 'failed';
export type DeliverTo = 'first_terminal' | 'second_terminal';

/** A payment as services see it. The first code is never part of it: only its keyed hash is stored. */
export interface Payment {
  readonly id: string;
  readonly payerId: string;
  readonly payeeId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly status: PaymentStatus;
  readonly deliverTo: DeliverTo;
  readonly holdTransferId: string;
  readonly failedApprovals: number;
  readonly paymentRequestId: string | null;
  /** The payer's own key/value strings (metadata.ts); the platform never reads them. */
  readonly metadata: Metadata;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly updatedAtMs: number;
}

/** True when the payment may still be approved at `nowMs`. */
export function isApprovable(payment: Payment, nowMs: number): boolean {
  return payment.status === 'requires_approval' && nowMs < payment.expiresAtMs;
}

/** True when a status is final. */
export function isFinal(status: PaymentStatus): boolean {
  return status !== 'requires_approval';
}
