/**
 * Authentication of payers: password checks, sessions, attempt reservations and locks.
 *
 * Rules (`domain/attempts.ts`, docs/security.md): every password check first reserves an attempt under the
 * payer's row in the database; none is reserved while the payer is locked or while the failures counted
 * and the checks in flight reach 5, whatever the number of requests and server processes. The Argon2 check
 * runs outside any transaction; its outcome is then settled under the row: the fifth consecutive failure
 * locks the payer for `LOCK_SECONDS`, doubled on each consecutive lock up to `LOCK_SECONDS_MAX`; an outcome
 * that arrives while the payer is locked counts nothing and is answered `payer_locked`. An id that does not
 * exist is hashed against a dummy, counted and locked exactly like one that does.
 */

import { randomBytes } from 'node:crypto';
import {
  type AttemptState,
  afterBlock,
  afterUnlock,
  isLocked,
  lockEnd,
  lockedAnswerDetails,
  reserveSelfUnlock,
  type Settlement,
  settleSelfUnlock,
} from '../../domain/attempts.js';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import { isPartyId } from '../../domain/payer.js';
import { verificationCodeLabel } from '../../domain/sealed-labels.js';
import type { SqlExecutor } from '../database.js';
import type { AuditEvent, MethodDependencies } from '../method-dependencies.js';
import { checkUnderAttemptLimit } from './attempt-guard.js';

/** The `payer_locked` answer for a payer in `state`, saying when the lock ends. */
export function lockedError(state: AttemptState, nowMs: number): CountersignError {
  return new CountersignError('payer_locked', { details: lockedAnswerDetails(state, nowMs) });
}

/** The audit entries of a settled password check: success, or failure with the count and any lock. */
function settlementEvents(payerId: string, settled: Settlement): AuditEvent[] {
  if (settled.verdict === 'succeeded') return [{ event: 'login_succeeded', subject: payerId, detail: {} }];
  if (settled.verdict === 'locked') return [];
  const events: AuditEvent[] = [
    { event: 'login_failed', subject: payerId, detail: { consecutiveFailures: settled.consecutiveFailures } },
  ];
  if (settled.lockedUntilMs !== null) {
    events.push({
      event: 'payer_locked',
      subject: payerId,
      detail: { lockedUntilMs: settled.lockedUntilMs },
    });
  }
  return events;
}

/** A payer's lock now: whether locked, until when (null while blocked or unlocked), and the count. */
export interface PayerLockState {
  readonly locked: boolean;
  readonly lockedUntilMs: number | null;
  readonly blocked: boolean;
  readonly consecutiveFailures: number;
}

function lockStateOf(state: AttemptState, nowMs: number): PayerLockState {
  const end = lockEnd(state, nowMs);
  return {
    locked: end !== null,
    lockedUntilMs: typeof end === 'number' ? end : null,
    blocked: state.blocked,
    consecutiveFailures: state.consecutiveFailures,
  };
}

/** Prefix of session tokens, so that a leaked token is recognisable in a secret scanner. */
export const sessionTokenPrefix = 'cs_sess_';

/** A session as given to the payer once. */
export interface CreatedSession {
  readonly token: string;
  readonly payerId: string;
  readonly expiresAtMs: number;
}

/** Payer authentication over the database-held attempt state (shared by every server process). */
export class AuthenticationService {
  constructor(private readonly deps: MethodDependencies) {}

  /** Throws `payer_locked` when the claimed payer id is locked now. Counts nothing. */
  async assertNotLocked(payerId: string): Promise<void> {
    const state = await this.deps.partyStore.selectAttemptState(this.deps.database, payerId, false);
    const nowMs = this.deps.clock.nowMs();
    if (isLocked(state, nowMs)) throw lockedError(state, nowMs);
  }

  /**
   * Verifies a payer id and password. On success returns the payer id and resets the count; on failure
   * records it (possibly locking) and throws `authentication_failed`; throws `payer_locked` when no attempt
   * can be reserved (locked, or every slot taken) or when the payer locked while the password was checked.
   */
  async verifyPassword(payerId: string, password: string): Promise<string> {
    const { database, clock, partyStore, passwords } = this.deps;
    await this.deps.payerRateLimiter?.attempt(payerId, clock.nowMs());
    await checkUnderAttemptLimit(this.deps, {
      subject: payerId,
      evaluate: async () => {
        const payer = isPartyId(payerId) ? await partyStore.selectPayer(database, payerId) : undefined;
        // The hash runs whether or not the payer exists: an unknown id costs what a wrong password costs.
        return (await passwords.verifyPasswordOrDummy(payer?.passwordHash, password)) && payer !== undefined;
      },
      events: (settled) => settlementEvents(payerId, settled),
      locked: lockedError,
      failed: () => new CountersignError('authentication_failed'),
    });
    return payerId;
  }

  /** The attempt state of a claimed id, its row locked until the end of `tx`. */
  private async lockedState(tx: SqlExecutor, payerId: string): Promise<[AttemptState]> {
    const states = await this.deps.partyStore.lockAttemptStates(tx, [payerId]);
    const state = states.get(payerId);
    if (state === undefined) throw new Error(`invariant: attempt row of ${payerId} not locked`);
    return [state];
  }

  /** A payer's lock as the payer's own terminal shows it. */
  async lockState(payerId: string): Promise<PayerLockState> {
    const { database, clock, partyStore } = this.deps;
    return lockStateOf(await partyStore.selectAttemptState(database, payerId, false), clock.nowMs());
  }

  /**
   * The payer unlocks themself from an enrolled second terminal (possession, proven by the terminal's
   * signature, checked by the caller) with the verification code (knowledge). One attempt like any other,
   * reserved under the payer's row before the code is compared; allowed while temporarily locked, never
   * while the operator blocks. Right: the lock, the count and the escalation end. Wrong: a failure that
   * counts, and the fifth engages the next, longer lock; answered `authentication_failed`.
   */
  async selfUnlock(payerId: string, verificationCode: string): Promise<PayerLockState> {
    const { database, clock, settings, partyStore, secrets, audit } = this.deps;
    const outcome = await database.transaction(async (tx) => {
      const [before] = await this.lockedState(tx, payerId);
      const nowMs = clock.nowMs();
      const reservation = reserveSelfUnlock(before, nowMs, settings.attemptPolicy);
      if (!reservation.granted) return { error: lockedError(before, nowMs) };
      const payer = await partyStore.selectPayer(tx, payerId);
      if (payer === undefined) throw new Error(`invariant: the terminal's payer ${payerId} does not exist`);
      const pin = secrets.box
        .open(payer.verificationCodeSealed, verificationCodeLabel(payerId))
        .toString('utf8');
      const matched = secrets.constantTimeEqualHex(
        secrets.keyedHash('verification_code', payerId, verificationCode),
        secrets.keyedHash('verification_code', payerId, pin),
      );
      const settled = settleSelfUnlock(reservation.state, matched, nowMs, settings.attemptPolicy);
      await partyStore.saveAttemptState(tx, payerId, settled.state, nowMs);
      const events: AuditEvent[] = matched
        ? [{ event: 'payer_self_unlocked', subject: payerId, detail: {} }]
        : [
            {
              event: 'self_unlock_failed',
              subject: payerId,
              detail: { consecutiveFailures: settled.consecutiveFailures },
            },
          ];
      if (settled.lockedUntilMs !== null) {
        events.push({
          event: 'payer_locked',
          subject: payerId,
          detail: { lockedUntilMs: settled.lockedUntilMs },
        });
      }
      await audit.appendIn(tx, events, nowMs);
      return matched
        ? { state: lockStateOf(settled.state, nowMs) }
        : { error: new CountersignError('authentication_failed') };
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.state;
  }

  /** Lifts a lock and the escalation, and a block (operator). `payer_not_found` for an id that names no payer. */
  async unlock(payerId: string, actor: Actor): Promise<void> {
    assertMayAct(actor, 'unlock_payer');
    await this.changeByOperator(payerId, 'payer_unlocked', afterUnlock, actor);
  }

  /** Blocks a payer until the operator unlocks: every authentication answers `payer_locked` (operator). */
  async block(payerId: string, actor: Actor): Promise<void> {
    assertMayAct(actor, 'block_payer');
    await this.changeByOperator(payerId, 'payer_blocked', afterBlock, actor);
  }

  private async changeByOperator(
    payerId: string,
    event: string,
    change: (state: AttemptState) => AttemptState,
    actor: Actor,
  ): Promise<void> {
    const { database, clock, partyStore, audit } = this.deps;
    await database.transaction(async (tx) => {
      if ((await partyStore.selectPayer(tx, payerId)) === undefined)
        throw new CountersignError('payer_not_found');
      const [before] = await this.lockedState(tx, payerId);
      const nowMs = clock.nowMs();
      await partyStore.saveAttemptState(tx, payerId, change(before), nowMs);
      await audit.appendIn(tx, [{ event, subject: payerId, detail: { actor: actorLabel(actor) } }], nowMs);
    });
  }

  /** Verifies the password and opens a session; the token is returned once and stored only as a hash. */
  async createSession(payerId: string, password: string): Promise<CreatedSession> {
    await this.verifyPassword(payerId, password);
    return this.openSession(payerId);
  }

  /**
   * Opens a session for a payer whose password `verifyPassword` has just accepted (the API checks it before
   * claiming the idempotency key, then opens the session).
   */
  async openSession(payerId: string): Promise<CreatedSession> {
    const token = sessionTokenPrefix + randomBytes(32).toString('base64url');
    const nowMs = this.deps.clock.nowMs();
    await this.deps.database.transaction(async (tx) => {
      await this.deps.partyStore.insertSession(tx, this.tokenHash(token), payerId, nowMs);
      await this.deps.audit.appendIn(tx, [{ event: 'session_created', subject: payerId, detail: {} }], nowMs);
    });
    return { token, payerId, expiresAtMs: this.sessionExpiry(nowMs, nowMs) };
  }

  /**
   * The payer of a live session token, extending its idle window; `authentication_required` when the
   * token is unknown, revoked or expired, and `payer_locked` when its payer is locked.
   */
  async authenticateSession(token: string): Promise<{ payerId: string; expiresAtMs: number }> {
    const { database, clock, settings, partyStore } = this.deps;
    if (!token.startsWith(sessionTokenPrefix) || token.length > limits.sessionTokenLengthMax) {
      throw new CountersignError('authentication_required');
    }
    const nowMs = clock.nowMs();
    const session = await partyStore.touchSession(
      database,
      this.tokenHash(token),
      nowMs,
      settings.sessionIdleMs,
      settings.sessionLifetimeMs,
    );
    if (session === undefined) throw new CountersignError('authentication_required');
    // The store reads the payer's lock with the session when it can, saving a round trip per request.
    if (session.attempts === undefined) await this.assertNotLocked(session.payerId);
    else if (isLocked(session.attempts, nowMs)) throw lockedError(session.attempts, nowMs);
    return {
      payerId: session.payerId,
      expiresAtMs: this.sessionExpiry(session.createdAtMs, session.lastUsedAtMs),
    };
  }

  /** Ends a session at once (sign out). */
  async revokeSession(token: string): Promise<void> {
    await this.deps.partyStore.revokeSession(this.deps.database, this.tokenHash(token));
  }

  private tokenHash(token: string): string {
    return this.deps.secrets.keyedHash('session_token', token);
  }

  private sessionExpiry(createdAtMs: number, lastUsedAtMs: number): number {
    const { sessionIdleMs, sessionLifetimeMs } = this.deps.settings;
    return Math.min(lastUsedAtMs + sessionIdleMs, createdAtMs + sessionLifetimeMs);
  }
}
