// Proves the refund rules: everything left by default, never more than is left, nothing once fully refunded.
import { describe, expect, it } from 'vitest';
import { refundAmount, refundableRemaining } from './refund.js';

describe('refund amounts', () => {
  it('refunds what is left when no amount is given, and any amount up to it', () => {
    expect(refundAmount(1000n, 0n, undefined)).toEqual({ amount: 1000n });
    expect(refundAmount(1000n, 600n, undefined)).toEqual({ amount: 400n });
    expect(refundAmount(1000n, 600n, 400n)).toEqual({ amount: 400n });
    expect(refundAmount(1000n, 600n, 1n)).toEqual({ amount: 1n });
  });

  it('refuses more than is left, anything once nothing is left, and amounts below one', () => {
    expect(refundAmount(1000n, 600n, 401n)).toEqual({ refusal: 'exceeds_remaining', remaining: 400n });
    expect(refundAmount(1000n, 1000n, undefined)).toEqual({ refusal: 'nothing_left', remaining: 0n });
    expect(refundAmount(1000n, 1000n, 1n)).toEqual({ refusal: 'nothing_left', remaining: 0n });
    expect(refundAmount(1000n, 0n, 0n)).toEqual({ refusal: 'amount_not_positive', remaining: 1000n });
  });

  it('treats refunds beyond the payment as a broken invariant', () => {
    expect(() => refundableRemaining(100n, 101n)).toThrow(/invariant/);
    expect(() => refundableRemaining(100n, -1n)).toThrow(/invariant/);
  });
});
