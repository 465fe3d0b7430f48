/**
 * The storage port of passkeys (WebAuthn credentials of payers) and of their ceremonies' nonces;
 * `store/passkey-repository.ts` implements it.
 */
import type { PasskeyChallengeState, PasskeyState } from '../../domain/passkey.js';
import type { SqlExecutor } from '../database.js';

/** A ceremony's nonce, as issued. */
export interface PasskeyChallengeRecord extends PasskeyChallengeState {
  /** base64url of 32 random bytes. */
  readonly nonce: string;
  readonly createdAtMs: number;
}

/** A registered passkey: what verifies its signatures, never anything that can make one. */
export interface PasskeyRecord extends PasskeyState {
  /** The COSE public key, base64url. */
  readonly publicKey: string;
  readonly aaguid: string;
  /** Transports the authenticator reported, comma-separated (a hint for the browser). */
  readonly transports: string;
  readonly label: string | null;
  readonly createdAtMs: number;
  readonly lastUsedAtMs: number | null;
  readonly revokedAtMs: number | null;
}

/** The statements of the passkey services and of the payment executor's passkey approvals. */
export interface PasskeyStore {
  insertChallenge(tx: SqlExecutor, challenge: PasskeyChallengeRecord): Promise<void>;
  /** Unused, unexpired challenges of a payer (call with the payer locked, so that the count holds). */
  countOpenChallenges(tx: SqlExecutor, payerId: string, nowMs: number): Promise<number>;
  /** Deletes a payer's expired challenges, at most `limit`: they can never be used again. */
  deleteExpiredChallenges(tx: SqlExecutor, payerId: string, nowMs: number, limit: number): Promise<void>;
  selectChallenge(tx: SqlExecutor, id: string, lock: boolean): Promise<PasskeyChallengeRecord | undefined>;
  markChallengesUsed(tx: SqlExecutor, ids: readonly string[], nowMs: number): Promise<void>;
  insertPasskey(tx: SqlExecutor, passkey: PasskeyRecord): Promise<void>;
  /** A payer's passkeys, oldest first, revoked ones included, at most `limit`. */
  listPasskeys(tx: SqlExecutor, payerId: string, limit: number): Promise<PasskeyRecord[]>;
  selectPasskey(tx: SqlExecutor, id: string, lock: boolean): Promise<PasskeyRecord | undefined>;
  selectPasskeyByCredential(tx: SqlExecutor, credentialId: string): Promise<PasskeyRecord | undefined>;
  revokePasskey(tx: SqlExecutor, id: string, nowMs: number): Promise<void>;
  /** Challenges and passkeys named by a batch's approvals, locked in id order (after the payments). */
  lockForApprovals(
    tx: SqlExecutor,
    challengeIds: readonly string[],
    credentialIds: readonly string[],
  ): Promise<{ challenges: Map<string, PasskeyChallengeState>; passkeys: Map<string, PasskeyState> }>;
  /** The keyed hash of a payment's first code, which its approval challenges bind. */
  selectFirstCodeHash(tx: SqlExecutor, paymentId: string): Promise<string | undefined>;
  /** New signature counters of passkeys that approved, keyed by passkey id. */
  recordSignCounts(tx: SqlExecutor, counts: ReadonlyMap<string, number>, nowMs: number): Promise<void>;
}
