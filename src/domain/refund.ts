/**
 * Refunds as pure rules. A refund gives back part or all of a succeeded payment; the refunds of one payment
 * never add up to more than it. The ledger moves the amount from the merchant's account to the payer's
 * wallet in one transfer, and the merchant's account may not go below zero.
 */
import type { Metadata } from './metadata.js';

/** A refund as services see it: always succeeded, because it is recorded only once the ledger moved it. */
export interface Refund {
  readonly id: string;
  readonly merchantId: string;
  readonly paymentId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly status: 'succeeded';
  /** The merchant's own key/value strings (metadata.ts). */
  readonly metadata: Metadata;
  readonly createdAtMs: number;
}

/** Why a refund of a given amount cannot be made. */
export type RefundRefusal = 'nothing_left' | 'exceeds_remaining' | 'amount_not_positive';

/** What is left to refund of a payment of `paymentAmount` after `refunded`. */
export function refundableRemaining(paymentAmount: bigint, refunded: bigint): bigint {
  if (refunded < 0n || refunded > paymentAmount) {
    throw new Error(`invariant: refunds of ${refunded} against a payment of ${paymentAmount}`);
  }
  return paymentAmount - refunded;
}

/**
 * The amount to refund: `requested`, or everything left when none is given; or why it cannot be.
 */
export function refundAmount(
  paymentAmount: bigint,
  refunded: bigint,
  requested: bigint | undefined,
): { readonly amount: bigint } | { readonly refusal: RefundRefusal; readonly remaining: bigint } {
  const remaining = refundableRemaining(paymentAmount, refunded);
  if (requested !== undefined && requested <= 0n) return { refusal: 'amount_not_positive', remaining };
  if (remaining === 0n) return { refusal: 'nothing_left', remaining };
  if (requested === undefined) return { amount: remaining };
  if (requested > remaining) return { refusal: 'exceeds_remaining', remaining };
  return { amount: requested };
}
