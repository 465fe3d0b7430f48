/**
 * What a failed PostgreSQL call says about the database's availability, and so what is safe to do about
 * it. Two questions, kept apart on purpose:
 * - did the work certainly not happen? Then the server may run it again itself (`neverReachedPrimary`);
 * - is there, for now, no primary to talk to? Then the request is answered 503 with `Retry-After`
 *   (`databaseUnavailable`), and the client's idempotency key makes its retry safe.
 * A connection lost in the middle of a transaction, COMMIT included, is only the second: the commit may
 * have happened, so replaying the transaction here could run it twice.
 */
import { CountersignError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import { sqlState } from '../domain/sql-state.js';

/**
 * Failures that prove the statement was never executed by a primary: no connection could be opened
 * (refused, timed out, the server still starting up or shutting down, 57P03), or the server is a standby
 * that refused the write (25006 read_only_sql_transaction: the transaction rolled back, nothing changed).
 */
const neverExecutedCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CONNECT_TIMEOUT',
  '57P03',
  '25006',
]);

/**
 * Failures after which the outcome of a call in flight is unknown: the connection broke (closed, reset,
 * the server crashed or was shut down: 57P01 admin_shutdown, 57P02 crash_shutdown, class 08).
 */
const connectionLostCodes: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  '57P01',
  '57P02',
]);

function errorCode(error: unknown): string | undefined {
  const state = sqlState(error);
  if (state !== undefined) return state;
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** True when the call was certainly not executed by a primary, so running it again is safe. */
export function neverReachedPrimary(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && neverExecutedCodes.has(code);
}

/** True when the connection a call ran on broke under it (the call's outcome unknown, the connection gone). */
export function connectionLost(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  return connectionLostCodes.has(code) || code.startsWith('08');
}

/** True when the error means that no primary could be reached (whether or not the call ran). */
export function databaseUnavailable(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  return neverExecutedCodes.has(code) || connectionLostCodes.has(code) || code.startsWith('08');
}

/** The catalogued 503 for a database without a reachable primary, with the wait the client is asked for. */
export function unavailableError(cause: unknown): CountersignError {
  return new CountersignError('service_unavailable', {
    message: 'The database is unavailable (no primary reachable); retry later with the same Idempotency-Key.',
    details: { retryAfterSeconds: limits.databaseUnavailableRetryAfterSeconds },
    cause,
  });
}

/** Waits before the next attempt to reach a primary: 100, 200, 400, 800 ms, so about 1.5 s in all. */
export function unavailableBackoff(attempt: number): Promise<void> {
  const waitMs = limits.databaseUnavailableBackoffBaseMs * 2 ** Math.min(attempt, 4);
  return new Promise((resolve) => setTimeout(resolve, waitMs));
}
