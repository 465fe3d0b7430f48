/**
 * What the payer, payee and authentication services need from storage. `store/party-repository`
 * implements these interfaces in SQL (payments: `payment-store.ts`); every function runs inside the
 * caller's transaction (or directly on the database, which is also an executor).
 */
import type { AttemptState } from '../../domain/attempts.js';
import type { DeliverTo } from '../../domain/payment.js';
import type { SqlExecutor } from '../database.js';

/** A payer row: secrets only in hashed or sealed form. */
export interface PayerRecord {
  readonly id: string;
  readonly passwordHash: string;
  readonly verificationCodeSealed: string;
  readonly createdAtMs: number;
}

/** A second terminal enrolled for a payer. */
export interface TerminalRecord {
  readonly id: string;
  readonly payerId: string;
  readonly suite: string;
  readonly keySealed: string;
  readonly status: 'active' | 'revoked';
  readonly label: string | null;
  readonly createdAtMs: number;
}

/** A payee (or a merchant, which is a payee that integrates over the API). */
export interface PayeeRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: 'payee' | 'merchant';
  readonly createdAtMs: number;
}

/** Storage of payers, payees, terminals, attempt counters and sessions. */
export interface PartyStore {
  insertPayer(tx: SqlExecutor, payer: PayerRecord): Promise<boolean>;
  selectPayer(tx: SqlExecutor, id: string): Promise<PayerRecord | undefined>;
  insertTerminal(tx: SqlExecutor, terminal: TerminalRecord): Promise<void>;
  selectActiveTerminals(tx: SqlExecutor, payerId: string): Promise<TerminalRecord[]>;
  insertPayee(tx: SqlExecutor, payee: PayeeRecord): Promise<boolean>;
  selectPayee(tx: SqlExecutor, id: string): Promise<PayeeRecord | undefined>;
  /** The attempt state of a claimed payer id, locked for update when `lock` is true. */
  selectAttemptState(tx: SqlExecutor, subject: string, lock: boolean): Promise<AttemptState>;
  saveAttemptState(tx: SqlExecutor, subject: string, state: AttemptState, nowMs: number): Promise<void>;
  /** Attempt states of claimed ids, each row locked for update in subject order (created if never seen). */
  lockAttemptStates(tx: SqlExecutor, subjects: readonly string[]): Promise<Map<string, AttemptState>>;
  /** Writes attempt states with one statement. */
  saveAttemptStates(tx: SqlExecutor, states: ReadonlyMap<string, AttemptState>, nowMs: number): Promise<void>;
  insertSession(tx: SqlExecutor, tokenHash: string, payerId: string, nowMs: number): Promise<void>;
  /**
   * Marks a live session used (at most once per `sessionTouchIntervalMs`) and returns its payer, creation
   * time and recorded last use, or undefined if dead or unknown;
   * with the payer's attempt state when the store reads it in the same statement (one round trip less).
   */
  touchSession(
    tx: SqlExecutor,
    tokenHash: string,
    nowMs: number,
    idleMs: number,
    lifetimeMs: number,
  ): Promise<TouchedSession | undefined>;
  revokeSession(tx: SqlExecutor, tokenHash: string): Promise<void>;
}

/** A live session as `touchSession` found it. */
export interface TouchedSession {
  readonly payerId: string;
  readonly createdAtMs: number;
  /** The session's last use as recorded, from which its idle window runs. */
  readonly lastUsedAtMs: number;
  /** The payer's attempt state, read with the session; absent when the store did not read it. */
  readonly attempts?: AttemptState;
}

export type { DeliverTo };
