/**
 * Builds the method's services from their dependencies: one place that `main.ts`, the CLI and the tests
 * share, so that every entry point runs the same wiring.
 */
import type { Clock } from '../domain/clock.js';
import { limits } from '../domain/limits.js';
import { defaultTerminalSuite } from '../domain/terminal-suite.js';
import { AuditService, type AuditStore } from '../services/audit/audit-service.js';
import type { Database } from '../services/database.js';
import { coalescedPartyStore } from '../services/group-commit/coalesced-stores.js';
import type { MethodSecrets } from '../services/keys/secrets.js';
import { LedgerService, type LedgerStore } from '../services/ledger/ledger-service.js';
import type {
  AuditAppender,
  MethodDependencies,
  MethodSettings,
  PasswordHasher,
} from '../services/method-dependencies.js';
import { AuthenticationService } from '../services/parties/authentication-service.js';
import { PartyService } from '../services/parties/party-service.js';
import type { PartyStore } from '../services/parties/party-store.js';
import {
  type PayerAttemptCounter,
  PayerRateLimiter,
  payerRateLimit,
} from '../services/parties/payer-rate-limiter.js';
import type { PasskeyStore } from '../services/passkeys/passkey-store.js';
import type { PaymentBatchStore } from '../services/payments/payment-batch-store.js';
import { commitBatching } from '../services/payments/payment-executor.js';
import { PaymentService } from '../services/payments/payment-service.js';
import type { PaymentStore } from '../services/payments/payment-store.js';
import type { ChallengeNotifications } from '../services/terminals/challenge-relay.js';

/** The stores, implemented by `store/`; passed in so that services never import SQL. */
export interface MethodStores {
  readonly ledgerStore: LedgerStore;
  readonly partyStore: PartyStore;
  readonly paymentStore: PaymentStore;
  readonly auditStore: AuditStore;
  /** The set-oriented statements of the payment executor. */
  readonly paymentBatchStore: PaymentBatchStore;
  readonly passkeyStore: PasskeyStore;
  /** Announces new challenges to every server (absent: terminals on other servers learn by polling). */
  readonly challengeNotifications?: ChallengeNotifications;
  /** Where the per-payer throttle counts, shared by every server (absent: in this process's memory). */
  readonly payerAttemptCounter?: PayerAttemptCounter;
}

/** The settings a deployment chooses, from configuration. */
export interface MethodConfiguration {
  readonly codeTtlSeconds: number;
  readonly lockSeconds: number;
  /** Cap of the escalating lock (`LOCK_SECONDS_MAX`); default 24 hours. */
  readonly lockSecondsMax?: number;
  readonly publicUrl: string;
  /** Authentication attempts per payer id per minute (`RATE_LIMIT_PER_PAYER`); default `limits`. */
  readonly rateLimitPerPayer?: number;
  /** Payments per group commit (`COMMIT_BATCH_SIZE`; 0: each alone); default `limits.commitBatchSizeMax`. */
  readonly commitBatchSize?: number;
  /** Longest wait of a payment for its batch to close (`COMMIT_BATCH_WAIT_MS`). */
  readonly commitBatchWaitMs?: number;
}

/** The built services. */
export interface MethodServiceSet {
  readonly deps: MethodDependencies;
  readonly audit: AuditService;
  readonly authentication: AuthenticationService;
  readonly parties: PartyService;
  readonly payments: PaymentService;
  readonly ledger: LedgerService;
}

/** Settings from configuration, with the method's fixed rules added. */
export function methodSettings(configuration: MethodConfiguration): MethodSettings {
  return {
    codeTtlSeconds: configuration.codeTtlSeconds,
    attemptPolicy: {
      failuresBeforeLock: 5,
      lockMs: configuration.lockSeconds * 1000,
      lockMsMax: Math.max(configuration.lockSecondsMax ?? 86_400, configuration.lockSeconds) * 1000,
      reservationLeaseMs: limits.attemptReservationLeaseMs,
    },
    publicUrl: configuration.publicUrl,
    defaultSuite: defaultTerminalSuite,
    sessionIdleMs: limits.payerSessionIdleMs,
    sessionLifetimeMs: limits.payerSessionLifetimeMs,
  };
}

/** Wires the method's services. */
export function createMethodServices(input: {
  readonly database: Database;
  readonly clock: Clock;
  readonly configuration: MethodConfiguration;
  readonly secrets: MethodSecrets;
  readonly passwords: PasswordHasher;
  readonly stores: MethodStores;
}): MethodServiceSet {
  const audit = new AuditService(input.database, input.clock, input.stores.auditStore);
  const batching = commitBatching(input.database, input.configuration, input.stores.paymentBatchStore);
  // Statements of concurrent requests besides their payments (sessions, lock reads, idempotency keys) are
  // coalesced only with group commit on; off (`COMMIT_BATCH_SIZE=0`), every payment is a batch of one.
  const coalescing = input.configuration.commitBatchSize === 0 ? undefined : batching;
  const deps: MethodDependencies = {
    database: input.database,
    clock: input.clock,
    settings: methodSettings(input.configuration),
    secrets: input.secrets,
    passwords: input.passwords,
    audit: audit as unknown as AuditAppender,
    ledgerStore: input.stores.ledgerStore,
    // With group commit on, session checks and lock reads of concurrent requests share statements.
    partyStore:
      coalescing === undefined
        ? input.stores.partyStore
        : coalescedPartyStore(input.database, input.stores.partyStore, coalescing),
    paymentStore: input.stores.paymentStore,
    passkeyStore: input.stores.passkeyStore,
    payerRateLimiter: new PayerRateLimiter(
      payerRateLimit(input.configuration.rateLimitPerPayer),
      ...(input.stores.payerAttemptCounter === undefined ? [] : [input.stores.payerAttemptCounter]),
    ),
    ...(coalescing === undefined ? {} : { commitBatching: coalescing }),
    ...(input.stores.challengeNotifications === undefined
      ? {}
      : { challengeNotifications: input.stores.challengeNotifications }),
  };
  const authentication = new AuthenticationService(deps);
  return {
    deps,
    audit,
    authentication,
    parties: new PartyService(deps),
    payments: new PaymentService(deps, batching),
    ledger: new LedgerService(input.database, input.clock, input.stores.ledgerStore, deps.secrets.keyedHash),
  };
}
