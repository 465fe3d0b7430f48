/**
 * What the operator service needs from storage; `store/operator-repository` implements it in SQL. Every
 * function runs inside the caller's transaction (or directly on the database, which is also an executor).
 */
import type { OperatorRole } from '../../domain/operator.js';
import type { SqlExecutor } from '../database.js';

/** An operator row: the password only as an Argon2id hash, the TOTP key only sealed. */
export interface OperatorRecord {
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly passwordHash: string | null;
  readonly totpKeySealed: string | null;
  readonly totpLastStep: number;
  readonly setupCodeHash: string | null;
  readonly setupExpiresAtMs: number | null;
  readonly createdAtMs: number;
  readonly createdBy: string;
  readonly disabledAtMs: number | null;
}

/** An operator as listed, with the number of its open console sessions. */
export interface OperatorSummary {
  readonly id: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly active: boolean;
  readonly disabled: boolean;
  readonly createdAtMs: number;
  readonly createdBy: string;
  readonly openSessions: number;
}

/** A live console session as touched, with its operator. */
export interface TouchedOperatorSession {
  readonly sessionId: string;
  readonly createdAtMs: number;
  readonly operatorId: string;
  readonly name: string;
  readonly role: OperatorRole;
}

/** Why a console session ended. */
export type SessionEndReason = 'signed_out' | 'ended_by_admin' | 'disabled';

/** Storage of operators and their console sessions. */
export interface OperatorStore {
  /** Inserts an operator; false when the name is taken. */
  insertOperator(tx: SqlExecutor, operator: OperatorRecord): Promise<boolean>;
  selectOperatorByName(tx: SqlExecutor, name: string, lock: boolean): Promise<OperatorRecord | undefined>;
  listOperators(
    tx: SqlExecutor,
    nowMs: number,
    idleMs: number,
    lifetimeMs: number,
  ): Promise<OperatorSummary[]>;
  /** Sets the password and TOTP key and consumes the set-up code. */
  completeSetup(
    tx: SqlExecutor,
    id: string,
    passwordHash: string,
    totpKeySealed: string,
    totpStep: number,
  ): Promise<void>;
  /** Records `step` as the last TOTP step accepted, only if it comes after the last one; false if not. */
  acceptTotpStep(tx: SqlExecutor, id: string, step: number): Promise<boolean>;
  insertSession(
    tx: SqlExecutor,
    tokenHash: string,
    id: string,
    operatorId: string,
    nowMs: number,
  ): Promise<void>;
  /**
   * Marks a live session used and returns it with its operator, or undefined when it is unknown, ended, idle
   * for `idleMs`, older than `lifetimeMs`, or its operator is disabled.
   */
  touchSession(
    tx: SqlExecutor,
    tokenHash: string,
    nowMs: number,
    idleMs: number,
    lifetimeMs: number,
  ): Promise<TouchedOperatorSession | undefined>;
  /** Ends one session; false when it was already ended or unknown. */
  endSession(tx: SqlExecutor, tokenHash: string, nowMs: number, reason: SessionEndReason): Promise<boolean>;
  /** Ends every open session of an operator; the number of live ones (not idle or too old) ended. */
  endSessionsOf(
    tx: SqlExecutor,
    operatorId: string,
    nowMs: number,
    reason: SessionEndReason,
    idleMs: number,
    lifetimeMs: number,
  ): Promise<number>;
}
