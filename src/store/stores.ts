/**
 * Every SQL store, for wiring.
 */
import type { MethodStores } from '../services/method-services.js';
import type { PlatformStores } from '../services/platform-services.js';
import { sqlAuditStore } from './audit-repository.js';
import type { Database } from './database.js';
import { IdempotencyRepository } from './idempotency-repository.js';
import { sqlLedgerStore } from './ledger-repository.js';
import { sqlPartyStore } from './party-repository.js';
import { sqlPaymentStore } from './payment-repository.js';

/** The SQL implementations of the method's stores. */
export const sqlStores: MethodStores = Object.freeze({
  ledgerStore: sqlLedgerStore,
  partyStore: sqlPartyStore,
  paymentStore: sqlPaymentStore,
  auditStore: sqlAuditStore,
});

/** The SQL implementations of every store of the platform, over `database`. */
export function sqlPlatformStores(database: Database): PlatformStores {
  return { ...sqlStores, idempotencyStore: new IdempotencyRepository(database) };
}
