/**
 * What the method's services are built from. `main.ts` wires the real implementations; tests wire the
 * same ones over a test database and a manual clock.
 */

import type { AttemptPolicy } from '../domain/attempts.js';
import type { Clock } from '../domain/clock.js';
import type { Database, SqlExecutor } from './database.js';
import type { MethodSecrets } from './keys/secrets.js';
import type { LedgerStore } from './ledger/ledger-service.js';
import type { PartyStore } from './parties/party-store.js';
import type { PayerRateLimiter } from './parties/payer-rate-limiter.js';
import type { PasskeyStore } from './passkeys/passkey-store.js';
import type { CommitBatching } from './payments/payment-batch-store.js';
import type { PaymentStore } from './payments/payment-store.js';
import type { ChallengeNotifications } from './terminals/challenge-relay.js';

/** Password hashing with Argon2id; the dummy path costs the same as a real check. */
export interface PasswordHasher {
  hashPassword(password: string): Promise<string>;
  verifyPasswordOrDummy(hash: string | undefined, password: string): Promise<boolean>;
}

/** A security event for the audit log: never a secret in `detail`. */
export interface AuditEvent {
  readonly event: string;
  readonly subject: string | null;
  readonly detail: Readonly<Record<string, string | number | boolean | null>>;
}

/** Appends audit events inside the caller's transaction, so they commit with the change they record. */
export interface AuditAppender {
  /** `alongside` starts statements sent just before the head is locked, in the same round trip. */
  appendIn(
    tx: SqlExecutor,
    events: readonly AuditEvent[],
    nowMs: number,
    alongside?: () => Promise<unknown>,
  ): Promise<unknown>;
  /**
   * Locks the head in `tx` (after every other lock of the transaction) and returns what appends under it:
   * for a caller that sends the lock with its own locks and the entries with its own writes.
   */
  lockHeadIn(tx: SqlExecutor): Promise<{
    writeIn(tx: SqlExecutor, events: readonly AuditEvent[], nowMs: number): Promise<unknown>;
  }>;
}

/** Settings of the method, from configuration. */
export interface MethodSettings {
  readonly codeTtlSeconds: number;
  readonly attemptPolicy: AttemptPolicy;
  readonly publicUrl: string;
  /** The OCRA suite given to new terminals. */
  readonly defaultSuite: string;
  /** A session ends after this long without use, and after `sessionLifetimeMs` in all. */
  readonly sessionIdleMs: number;
  readonly sessionLifetimeMs: number;
}

/** Everything the method's services need. */
export interface MethodDependencies {
  readonly database: Database;
  readonly clock: Clock;
  readonly settings: MethodSettings;
  readonly secrets: MethodSecrets;
  readonly passwords: PasswordHasher;
  readonly audit: AuditAppender;
  readonly ledgerStore: LedgerStore;
  readonly partyStore: PartyStore;
  readonly paymentStore: PaymentStore;
  /** Passkeys and their ceremonies' nonces (approvals with a passkey go through the payment executor). */
  readonly passkeyStore: PasskeyStore;
  /** Throttles password checks and approvals per payer id (absent: no per-payer throttle). */
  readonly payerRateLimiter?: PayerRateLimiter;
  /** Group commit of the request path's statements (absent: `COMMIT_BATCH_SIZE=0`). */
  readonly commitBatching?: CommitBatching;
  /** Announces new challenges to every server on commit (absent: other servers find them by polling). */
  readonly challengeNotifications?: ChallengeNotifications;
}
