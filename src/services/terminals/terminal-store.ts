/**
 * What the terminal and enrollment services need from storage; `store/terminal-repository` implements it
 * in SQL. Every function runs inside the caller's transaction (or directly on the database).
 */
import type { SqlExecutor } from '../database.js';

/** Where an enrollment stands. An open enrollment past its expiry is expired, whatever its row says. */
export type EnrollmentStatus = 'open' | 'redeemed' | 'expired' | 'canceled';

/** An enrollment row. */
export interface EnrollmentRecord {
  readonly id: string;
  readonly payerId: string;
  /** The terminal a device is bound to: set from the start for a payer's first terminal, else on redemption. */
  readonly terminalId: string | null;
  readonly suite: string;
  readonly label: string | null;
  readonly secretHash: string;
  /** The OCRA key of the terminal to create, sealed under `enrollment:<id>:key`; null once not open. */
  readonly keySealed: string | null;
  /** The enrollment URI, sealed under `enrollment:<id>:uri`; null once not open. */
  readonly uriSealed: string | null;
  readonly status: EnrollmentStatus;
  readonly failedConfirmations: number;
  readonly createdAtMs: number;
  readonly expiresAtMs: number;
  readonly redeemedAtMs: number | null;
}

/** A terminal row with its device credential. */
export interface TerminalDetails {
  readonly id: string;
  readonly payerId: string;
  readonly suite: string;
  readonly keySealed: string;
  readonly status: 'active' | 'revoked';
  readonly label: string | null;
  /** SubjectPublicKeyInfo of the device's P-256 key, base64url; null when no device was enrolled. */
  readonly publicKey: string | null;
  readonly createdAtMs: number;
  readonly enrolledAtMs: number | null;
  readonly lastSeenAtMs: number | null;
  readonly revokedAtMs: number | null;
}

/** A new terminal created by redeeming an enrollment. */
export interface EnrolledTerminalInsert {
  readonly id: string;
  readonly payerId: string;
  readonly suite: string;
  readonly keySealed: string;
  readonly label: string | null;
  readonly publicKey: string;
  readonly nowMs: number;
}

/** An open challenge of a terminal: a delivery of a payment that is still open and that the terminal can approve. */
export interface OpenChallengeRow {
  readonly deliveryId: string;
  readonly paymentId: string;
  readonly payerId: string;
  readonly terminalId: string;
  readonly payloadSealed: string;
  readonly createdAtMs: number;
}

/** Storage of enrollments, terminal credentials and request nonces. */
export interface TerminalStore {
  /** Locks the payer's row, so that counting and adding terminals of one payer never race; false if none. */
  lockPayer(tx: SqlExecutor, payerId: string): Promise<boolean>;
  insertEnrollment(tx: SqlExecutor, enrollment: EnrollmentRecord): Promise<void>;
  selectEnrollment(tx: SqlExecutor, id: string, lock: boolean): Promise<EnrollmentRecord | undefined>;
  /** Open, unexpired enrollments of a payer. */
  countOpenEnrollments(tx: SqlExecutor, payerId: string, nowMs: number): Promise<number>;
  /** Marks an open enrollment redeemed by `terminalId` and wipes its sealed values. */
  markEnrollmentRedeemed(tx: SqlExecutor, id: string, terminalId: string, nowMs: number): Promise<void>;
  /** Counts a wrong confirmation; with `cancel` the enrollment is canceled and its sealed values wiped. */
  recordEnrollmentFailure(tx: SqlExecutor, id: string, failures: number, cancel: boolean): Promise<void>;
  /** Closes open enrollments past their expiry (wiping their sealed values); returns how many. */
  expireEnrollments(tx: SqlExecutor, nowMs: number, limit: number): Promise<number>;
  insertEnrolledTerminal(tx: SqlExecutor, terminal: EnrolledTerminalInsert): Promise<void>;
  /** Gives an active terminal without credential its device key; false when it is revoked or already has one. */
  attachCredential(
    tx: SqlExecutor,
    terminalId: string,
    publicKey: string,
    label: string | null,
    nowMs: number,
  ): Promise<boolean>;
  selectTerminal(tx: SqlExecutor, id: string, lock: boolean): Promise<TerminalDetails | undefined>;
  listTerminals(tx: SqlExecutor, payerId: string, limit: number): Promise<TerminalDetails[]>;
  countActiveTerminals(tx: SqlExecutor, payerId: string): Promise<number>;
  /** Revokes an active terminal; false when it was already revoked. */
  revokeTerminal(tx: SqlExecutor, id: string, nowMs: number): Promise<boolean>;
  /** Records a nonce until `expiresAtMs`; false when the same key id already used it (a replay). */
  insertNonce(tx: SqlExecutor, keyId: string, nonce: string, expiresAtMs: number): Promise<boolean>;
  /** Notes that the terminal was seen, at most once a minute per terminal so that reads stay cheap. */
  touchTerminal(tx: SqlExecutor, id: string, nowMs: number): Promise<void>;
  purgeNonces(tx: SqlExecutor, nowMs: number, limit: number): Promise<number>;
  /** Open challenges of these terminals, oldest first. */
  selectOpenChallenges(
    tx: SqlExecutor,
    terminalIds: readonly string[],
    nowMs: number,
    limit: number,
  ): Promise<OpenChallengeRow[]>;
  /** The status of each of these terminals; a terminal that does not exist is missing from the map. */
  selectTerminalStatuses(
    tx: SqlExecutor,
    terminalIds: readonly string[],
  ): Promise<Map<string, 'active' | 'revoked'>>;
  /** Active terminals that can approve this payment (they have a second code for it). */
  selectApprovingTerminals(tx: SqlExecutor, paymentId: string): Promise<string[]>;
}
