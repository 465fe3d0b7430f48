/**
 * Every SQL store, for wiring.
 */

import type { Database } from '../services/database.js';
import { sqlAuditStore } from '../store/audit-repository.js';
import { sqlBackupStore } from '../store/backup-repository.js';
import { sqlChallengeNotifications } from '../store/challenge-notifications.js';
import { sqlDeliveryStore } from '../store/delivery-repository.js';
import { sqlExportStore } from '../store/export-repository.js';
import { sqlIdempotencyBatchStore } from '../store/idempotency-batch-repository.js';
import { IdempotencyRepository } from '../store/idempotency-repository.js';
import { sqlLedgerStore } from '../store/ledger-repository.js';
import { sqlOperatorStore } from '../store/operator-repository.js';
import { sqlOverviewStore } from '../store/overview-repository.js';
import { sqlPartyStore } from '../store/party-repository.js';
import { sqlPasskeyStore } from '../store/passkey-repository.js';
import { sqlPaymentBatchStore } from '../store/payment-batch-repository.js';
import { sqlPaymentStore } from '../store/payment-repository.js';
import { sqlPlatformKeyStore } from '../store/platform-key-repository.js';
import { sqlSealedValueStore } from '../store/sealed-value-repository.js';
import { sqlTerminalStore } from '../store/terminal-repository.js';
import type { MethodStores } from './method-service-set.js';
import type { PlatformStores } from './platform-services.js';
import { sqlMerchantStores } from './sql-merchant-stores.js';

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
