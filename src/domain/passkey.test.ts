// Proves the passkey approval rule: only a valid signature over this payment's unused, unexpired challenge, by an active passkey of its payer whose counter moved, approves; and the challenge text binds every field of dynamic linking.
import { describe, expect, it } from 'vitest';
import {
  approvalChallengeText,
  type PasskeyAssertion,
  type PasskeyChallengeState,
  type PasskeyState,
  passkeyApproves,
  signCountMoved,
} from './passkey.js';
import type { Payment } from './payment.js';

const nowMs = 1_767_261_600_000;
const payment: Payment = {
  id: '0f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c',
  metadata: {},
  payerId: 'alice',
  payeeId: 'shop',
  amount: 1250n,
  currency: 'EUR',
  status: 'requires_approval',
  deliverTo: 'first_terminal',
  holdTransferId: '1f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c',
  failedApprovals: 0,
  paymentRequestId: null,
  createdAtMs: nowMs - 1000,
  expiresAtMs: nowMs + 300_000,
  updatedAtMs: nowMs - 1000,
};
const challenge: PasskeyChallengeState = {
  id: '2f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c',
  payerId: 'alice',
  purpose: 'approval',
  paymentId: payment.id,
  expiresAtMs: nowMs + 60_000,
  usedAtMs: null,
};
const passkey: PasskeyState = {
  id: '3f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c',
  payerId: 'alice',
  credentialId: 'Y3JlZGVudGlhbC1pZC0x',
  signCount: 4,
  status: 'active',
};
const assertion: PasskeyAssertion = {
  challengeId: challenge.id,
  credentialId: passkey.credentialId,
  signCount: 5,
  signatureValid: true,
};

describe('passkeyApproves', () => {
  it('approves a valid assertion over the payment’s own open challenge', () => {
    expect(passkeyApproves(payment, assertion, challenge, passkey, nowMs)).toBe(true);
  });

  it.each<[string, Partial<PasskeyAssertion>, Partial<PasskeyChallengeState>, Partial<PasskeyState>]>([
    ['a signature the library refused', { signatureValid: false }, {}, {}],
    ['a challenge of another payment', {}, { paymentId: '9f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c' }, {}],
    ['a challenge of another payer', {}, { payerId: 'bob' }, {}],
    ['a registration challenge', {}, { purpose: 'registration', paymentId: null }, {}],
    ['a used challenge (a replay)', {}, { usedAtMs: nowMs - 1 }, {}],
    ['an expired challenge', {}, { expiresAtMs: nowMs }, {}],
    ['a revoked passkey', {}, {}, { status: 'revoked' }],
    ['a passkey of another payer', {}, {}, { payerId: 'bob' }],
    ['a counter that did not move (a clone)', { signCount: 4 }, {}, {}],
    ['a counter that went back', { signCount: 3 }, {}, {}],
  ])('refuses %s', (_name, assertionChange, challengeChange, passkeyChange) => {
    expect(
      passkeyApproves(
        payment,
        { ...assertion, ...assertionChange },
        { ...challenge, ...challengeChange } as PasskeyChallengeState,
        { ...passkey, ...passkeyChange },
        nowMs,
      ),
    ).toBe(false);
  });

  it('refuses when the challenge or the passkey is unknown', () => {
    expect(passkeyApproves(payment, assertion, undefined, passkey, nowMs)).toBe(false);
    expect(passkeyApproves(payment, assertion, challenge, undefined, nowMs)).toBe(false);
  });
});

describe('signCountMoved', () => {
  it('accepts a counter that went up, or an authenticator without one (both zero)', () => {
    expect(signCountMoved(0, 1)).toBe(true);
    expect(signCountMoved(7, 8)).toBe(true);
    expect(signCountMoved(0, 0)).toBe(true);
  });
  it('refuses a counter that stayed or went back, or fell to zero', () => {
    expect(signCountMoved(8, 8)).toBe(false);
    expect(signCountMoved(8, 7)).toBe(false);
    expect(signCountMoved(8, 0)).toBe(false);
  });
});

describe('approvalChallengeText', () => {
  const text = approvalChallengeText(payment, 'ab12', 'nonce');

  it('lists every bound field, length-prefixed', () => {
    expect(text).toBe(
      '31:countersign-passkey-approval-v1|36:0f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c|4:ab12|4:1250|3:EUR|4:shop|5:nonce',
    );
  });

  it('changes with each field', () => {
    const variants = [
      approvalChallengeText({ ...payment, id: '1f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c' }, 'ab12', 'nonce'),
      approvalChallengeText(payment, 'ab13', 'nonce'),
      approvalChallengeText({ ...payment, amount: 1251n }, 'ab12', 'nonce'),
      approvalChallengeText({ ...payment, currency: 'USD' }, 'ab12', 'nonce'),
      approvalChallengeText({ ...payment, payeeId: 'shop2' }, 'ab12', 'nonce'),
      approvalChallengeText(payment, 'ab12', 'nonce2'),
    ];
    expect(new Set([text, ...variants]).size).toBe(variants.length + 1);
  });

  it('cannot be shifted between fields (payee "ab", nonce "c" is not payee "a", nonce "bc")', () => {
    expect(approvalChallengeText({ ...payment, payeeId: 'ab' }, 'h', 'c')).not.toBe(
      approvalChallengeText({ ...payment, payeeId: 'a' }, 'h', 'bc'),
    );
  });
});
