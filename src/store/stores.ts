/**
 * Every SQL store, for wiring.
 */
import type { MethodStores } from '../services/method-services.js';
import { sqlAuditStore } from './audit-repository.js';
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
