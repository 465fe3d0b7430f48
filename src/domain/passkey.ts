/**
 * Passkeys as second terminals: the rules that decide whether a WebAuthn assertion approves a payment.
 * The signature itself is checked by the WebAuthn library before the payment is locked (it needs no
 * locked state); what depends on state that concurrent requests change — the nonce's single use, the
 * passkey's status and signature counter — is decided here, on the rows the executor locked, so that the
 * same assertion fired many times at once approves at most once.
 */
import type { Payment } from './payment.js';

/** A passkey approval as the payment rulebook receives it: the outcome of the signature check and what it named. */
export interface PasskeyAssertion {
  /** The server challenge (nonce row) the assertion answers. */
  readonly challengeId: string;
  /** base64url credential id the authenticator answered with. */
  readonly credentialId: string;
  /** The authenticator's signature counter in this assertion. */
  readonly signCount: number;
  /**
   * True when the library verified the signature over the challenge this payment and nonce make, the
   * origin, the RP ID and user verification. False for anything it refused (the answer never says why).
   */
  readonly signatureValid: boolean;
}

/** A ceremony's nonce row, locked. */
export interface PasskeyChallengeState {
  readonly id: string;
  readonly payerId: string;
  readonly purpose: 'registration' | 'approval';
  readonly paymentId: string | null;
  readonly expiresAtMs: number;
  readonly usedAtMs: number | null;
}

/** A passkey's row, locked. */
export interface PasskeyState {
  readonly id: string;
  readonly payerId: string;
  readonly credentialId: string;
  readonly signCount: number;
  readonly status: 'active' | 'revoked';
}

/**
 * Whether a passkey counter moved as an authenticator's must: strictly up, unless the authenticator keeps
 * no counter at all (both zero, which WebAuthn allows). A counter that did not move betrays a clone.
 */
export function signCountMoved(stored: number, asserted: number): boolean {
  return asserted > stored || (asserted === 0 && stored === 0);
}

/**
 * Whether an assertion approves `payment`: a valid signature, over a challenge issued for this payment,
 * not used before and not expired, by an active passkey of the payment's payer whose counter moved.
 */
export function passkeyApproves(
  payment: Payment,
  assertion: PasskeyAssertion,
  challenge: PasskeyChallengeState | undefined,
  passkey: PasskeyState | undefined,
  nowMs: number,
): boolean {
  // Every check runs, so that the time taken does not tell which one failed.
  const checks = [
    assertion.signatureValid,
    challenge !== undefined &&
      challenge.purpose === 'approval' &&
      challenge.paymentId === payment.id &&
      challenge.payerId === payment.payerId &&
      challenge.usedAtMs === null &&
      nowMs < challenge.expiresAtMs,
    passkey !== undefined &&
      passkey.status === 'active' &&
      passkey.payerId === payment.payerId &&
      passkey.credentialId === assertion.credentialId &&
      signCountMoved(passkey.signCount, assertion.signCount),
  ];
  return checks.every(Boolean);
}

/**
 * The text an approval challenge is the hash of: a domain label, then every field that dynamic linking
 * binds (payment id, the keyed hash of its first code, amount, currency, payee) and the server nonce,
 * each length-prefixed so that no two different payments give the same text.
 */
export function approvalChallengeText(
  payment: Pick<Payment, 'id' | 'amount' | 'currency' | 'payeeId'>,
  firstCodeHash: string,
  nonce: string,
): string {
  const fields = [
    'countersign-passkey-approval-v1',
    payment.id,
    firstCodeHash,
    payment.amount.toString(10),
    payment.currency,
    payment.payeeId,
    nonce,
  ];
  return fields.map((field) => `${field.length}:${field}`).join('|');
}
