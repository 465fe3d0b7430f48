/**
 * Every SQL store, for wiring.
 */

import type { Database } from '../services/database.js';
import type { MethodStores } from '../services/method-services.js';
import type { PlatformStores } from '../services/platform-services.js';
import { sqlAuditStore } from './audit-repository.js';
import { sqlBackupStore } from './backup-repository.js';
import { sqlChallengeNotifications } from './challenge-notifications.js';
import { sqlDeliveryStore } from './delivery-repository.js';
import { sqlExportStore } from './export-repository.js';
import { sqlIdempotencyBatchStore } from './idempotency-batch-repository.js';
import { IdempotencyRepository } from './idempotency-repository.js';
import { sqlLedgerStore } from './ledger-repository.js';
import { sqlMerchantStores } from './merchant-stores.js';
import { sqlOperatorStore } from './operator-repository.js';
import { sqlOverviewStore } from './overview-repository.js';
import { sqlPartyStore } from './party-repository.js';
import { sqlPasskeyStore } from './passkey-repository.js';
import { sqlPaymentBatchStore } from './payment-batch-repository.js';
import { sqlPaymentStore } from './payment-repository.js';
import { sqlPlatformKeyStore } from './platform-key-repository.js';
import { sqlSealedValueStore } from './sealed-value-repository.js';
import { sqlTerminalStore } from './terminal-repository.js';

/** The SQL implementations of the method's stores. */
export const sqlStores: MethodStores = Object.freeze({
  ledgerStore: sqlLedgerStore,
  partyStore: sqlPartyStore,
  paymentStore: sqlPaymentStore,
  auditStore: sqlAuditStore,
  paymentBatchStore: sqlPaymentBatchStore,
  passkeyStore: sqlPasskeyStore,
});

/** The SQL implementations of every store of the platform, over `database`. */
export function sqlPlatformStores(database: Database): PlatformStores {
  return {
    ...sqlStores,
    ...sqlMerchantStores,
    idempotencyStore: new IdempotencyRepository(database),
    idempotencyBatchStore: sqlIdempotencyBatchStore,
    overviewStore: sqlOverviewStore,
    exportStore: sqlExportStore,
    sealedValueStore: sqlSealedValueStore,
    platformKeyStore: sqlPlatformKeyStore,
    operatorStore: sqlOperatorStore,
    backupStore: sqlBackupStore,
    terminalStore: sqlTerminalStore,
    deliveryStore: sqlDeliveryStore,
    challengeNotifications: sqlChallengeNotifications(database),
  };
}
