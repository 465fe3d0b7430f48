/**
 * Authentication of payers: password checks, sessions, attempt counting and locks.
 *
 * Rules (docs/security.md): 5 consecutive failures of a payer id — wrong passwords anywhere, wrong
 * approvals — lock it for `LOCK_SECONDS`; while locked, every authentication answers `payer_locked`, even
 * a correct one; repeated temporary locks become permanent until the operator unlocks. An id that does
 * not exist is hashed against a dummy, counted and locked exactly like one that does.
 */
import { randomBytes } from 'node:crypto';
import { afterFailure, afterSuccess, afterUnlock, isLocked } from '../domain/attempts.js';
import { CountersignError } from '../domain/errors.js';
import { isPartyId } from '../domain/payer.js';
import type { SqlExecutor } from '../store/database.js';
import type { AuditEvent, MethodDependencies } from './method-dependencies.js';

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
    if (isLocked(state, this.deps.clock.nowMs())) throw new CountersignError('payer_locked');
  }

  /**
   * Verifies a payer id and password. On success returns the payer id and resets the count; on failure
   * records it (possibly locking) and throws `authentication_failed`; when locked throws `payer_locked`.
   */
  async verifyPassword(payerId: string, password: string): Promise<string> {
    this.deps.payerRateLimiter?.attempt(payerId, this.deps.clock.nowMs());
    await this.assertNotLocked(payerId);
    const payer = isPartyId(payerId)
      ? await this.deps.partyStore.selectPayer(this.deps.database, payerId)
      : undefined;
    // The hash runs whether or not the payer exists: an unknown id costs what a wrong password costs.
    const ok = await this.deps.passwords.verifyPasswordOrDummy(payer?.passwordHash, password);
    if (!ok || payer === undefined) {
      await this.recordFailure(payerId, 'login_failed');
      throw new CountersignError('authentication_failed');
    }
    return this.recordSuccess(payerId, 'login_succeeded');
  }

  /** Records a failed authentication (wrong password or wrong approval) in its own transaction. */
  async recordFailure(payerId: string, event: 'login_failed' | 'approval_failed'): Promise<void> {
    const { database, clock, settings, partyStore, audit } = this.deps;
    await database.transaction(async (tx) => {
      const nowMs = clock.nowMs();
      const before = await partyStore.selectAttemptState(tx, payerId, true);
      const { state, locked } = afterFailure(before, nowMs, settings.attemptPolicy);
      await partyStore.saveAttemptState(tx, payerId, state, nowMs);
      const events: AuditEvent[] = [
        { event, subject: payerId, detail: { consecutiveFailures: before.consecutiveFailures + 1 } },
      ];
      if (locked !== null) events.push({ event: 'payer_locked', subject: payerId, detail: { lock: locked } });
      await audit.appendIn(tx, events, nowMs);
    });
  }

  /** Records a successful authentication inside `tx` (or alone): the consecutive count starts again. */
  async recordSuccessIn(tx: SqlExecutor, payerId: string): Promise<void> {
    const { clock, partyStore } = this.deps;
    const state = await partyStore.selectAttemptState(tx, payerId, false);
    if (state.consecutiveFailures !== 0) {
      await partyStore.saveAttemptState(tx, payerId, afterSuccess(state), clock.nowMs());
    }
  }

  private async recordSuccess(payerId: string, event: string): Promise<string> {
    await this.deps.database.transaction(async (tx) => {
      await this.recordSuccessIn(tx, payerId);
      await this.deps.audit.appendIn(tx, [{ event, subject: payerId, detail: {} }], this.deps.clock.nowMs());
    });
    return payerId;
  }

  /** Lifts a lock (operator). Throws `payer_not_found` for an id that names no payer. */
  async unlock(payerId: string): Promise<void> {
    const { database, clock, partyStore, audit } = this.deps;
    await database.transaction(async (tx) => {
      if ((await partyStore.selectPayer(tx, payerId)) === undefined)
        throw new CountersignError('payer_not_found');
      const nowMs = clock.nowMs();
      await partyStore.saveAttemptState(tx, payerId, afterUnlock(), nowMs);
      await audit.appendIn(tx, [{ event: 'payer_unlocked', subject: payerId, detail: {} }], nowMs);
    });
  }

  /** Verifies the password and opens a session; the token is returned once and stored only as a hash. */
  async createSession(payerId: string, password: string): Promise<CreatedSession> {
    await this.verifyPassword(payerId, password);
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
    if (!token.startsWith(sessionTokenPrefix) || token.length > 128) {
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
    else if (isLocked(session.attempts, nowMs)) throw new CountersignError('payer_locked');
    return { payerId: session.payerId, expiresAtMs: this.sessionExpiry(session.createdAtMs, nowMs) };
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
