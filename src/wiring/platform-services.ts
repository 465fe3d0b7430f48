/**
 * The whole platform's services, built once from configuration-derived inputs. `main.ts`, the CLI and
 * the test harnesses call this, so every entry point shares one wiring.
 */
import type { Clock } from '../domain/clock.js';
import { limits } from '../domain/limits.js';
import type { BackgroundJob } from '../services/background-jobs.js';
import { BackupService, type BackupStore } from '../services/backups/backup-service.js';
import type { Database } from '../services/database.js';
import { ExportService, type ExportStore } from '../services/exports/export-service.js';
import {
  coalescedIdempotencyStore,
  type IdempotencyBatchStore,
} from '../services/group-commit/coalesced-stores.js';
import type { IdempotencyStore } from '../services/idempotency/idempotency-store.js';
import { sealedIdempotencyStore } from '../services/idempotency/sealed-idempotency-store.js';
import { MasterKeyRotation, type SealedValueStore } from '../services/keys/key-rotation.js';
import type { PlatformKeyStore } from '../services/keys/platform-keys.js';
import { createSecrets, masterKeyId, parseMasterKeyHex, type Secrets } from '../services/keys/secrets.js';
import type { MerchantStores } from '../services/merchants/merchant-stores.js';
import { OperatorService } from '../services/operators/operator-service.js';
import type { OperatorStore } from '../services/operators/operator-store.js';
import { OverviewService, type OverviewStore } from '../services/operators/overview-service.js';
import { hashPassword, verifyPasswordOrDummy } from '../services/parties/passwords.js';
import {
  createMerchantServices,
  type MerchantConfiguration,
  type MerchantServiceSet,
} from './merchant-service-set.js';
import {
  createMethodServices,
  type MethodConfiguration,
  type MethodServiceSet,
  type MethodStores,
} from './method-service-set.js';
import {
  createTerminalServices,
  type DeliveryConfiguration,
  type TerminalServiceSet,
  type TerminalStores,
} from './terminal-service-set.js';

/** Stores of the whole platform. */
export interface PlatformStores extends MethodStores, MerchantStores, TerminalStores {
  readonly idempotencyStore: IdempotencyStore;
  readonly overviewStore: OverviewStore;
  readonly exportStore: ExportStore;
  readonly sealedValueStore: SealedValueStore;
  readonly platformKeyStore: PlatformKeyStore;
  readonly operatorStore: OperatorStore;
  readonly backupStore: BackupStore;
  /** Claims and completions of idempotency keys many at a time (group commit; absent: one at a time). */
  readonly idempotencyBatchStore?: IdempotencyBatchStore;
}

/** Inputs of the platform. */
export interface PlatformInput {
  readonly database: Database;
  readonly clock: Clock;
  readonly configuration: MethodConfiguration &
    MerchantConfiguration &
    DeliveryConfiguration & { readonly sweepIntervalMs: number };
  readonly masterKeyHex: string;
  /** Earlier master keys whose sealed values still open until rotation reseals them. */
  readonly retiredMasterKeysHex?: readonly string[];
  /** The secrets as `openPlatformSecrets` built them (stored code-hash key); default: from the keys. */
  readonly secrets?: Secrets;
  readonly stores: PlatformStores;
}

/** Every service of the platform, and the background jobs a server process runs. */
export interface PlatformServices extends MethodServiceSet, MerchantServiceSet, TerminalServiceSet {
  readonly idempotencyStore: IdempotencyStore;
  readonly jobs: readonly BackgroundJob[];
  /** Read-only views for the web pages. */
  readonly overview: OverviewService;
  /** Exports for the books, streamed a page at a time. */
  readonly exports: ExportService;
  /** Operators' accounts, sign-in and console sessions. */
  readonly operators: OperatorService;
  /** Online backups of the embedded database. */
  readonly backups: BackupService;
  /** Re-encrypts sealed values under the current master key (`countersign keys rotate`). */
  readonly keyRotation: MasterKeyRotation;
}

/** The idempotency store, its claims and completions coalesced when group commit is on. */
function coalescedIdempotency(input: PlatformInput, method: MethodServiceSet): IdempotencyStore {
  const batching = method.deps.commitBatching;
  const store = input.stores.idempotencyBatchStore;
  if (batching === undefined || store === undefined) return input.stores.idempotencyStore;
  return coalescedIdempotencyStore(input.database, input.stores.idempotencyStore, store, batching);
}

/** The method's sweeps: expired payments, expired holds, and idempotency keys past their lifetime. */
function methodJobs(input: PlatformInput, method: MethodServiceSet): BackgroundJob[] {
  const every = input.configuration.sweepIntervalMs;
  return [
    { name: 'expire-payments', intervalMs: every, run: () => method.payments.expireDue() },
    { name: 'expire-holds', intervalMs: every, run: () => method.ledger.expireDue() },
    {
      name: 'purge-idempotency-keys',
      intervalMs: Math.max(every, limits.purgeIntervalMsMin),
      run: () =>
        input.stores.idempotencyStore.purgeExpired(input.clock.nowMs(), limits.idempotencyPurgeBatchSizeMax),
    },
  ];
}

/** The operator's tools: overview pages, exports, operator accounts and backups. */
function operatorToolServices(
  input: PlatformInput,
  method: MethodServiceSet,
): Pick<PlatformServices, 'overview' | 'exports' | 'operators' | 'backups'> {
  return {
    overview: new OverviewService(input.database, input.clock, input.stores.overviewStore),
    exports: new ExportService(input.database, input.stores.exportStore),
    operators: new OperatorService({ ...method.deps, operatorStore: input.stores.operatorStore }),
    backups: new BackupService({
      database: input.database,
      clock: input.clock,
      store: input.stores.backupStore,
      audit: method.deps.audit,
      masterKeyId: masterKeyId(parseMasterKeyHex(input.masterKeyHex)),
    }),
  };
}

/** Builds every service and the list of background jobs. */
export function createPlatformServices(input: PlatformInput): PlatformServices {
  const retired = input.retiredMasterKeysHex ?? [];
  const secrets = input.secrets ?? createSecrets(input.masterKeyHex, retired);
  const method = createMethodServices({
    database: input.database,
    clock: input.clock,
    configuration: input.configuration,
    secrets,
    passwords: { hashPassword, verifyPasswordOrDummy },
    stores: input.stores,
  });
  const every = input.configuration.sweepIntervalMs;
  const jobs = methodJobs(input, method);
  const keyRotation = new MasterKeyRotation(
    input.database,
    secrets.box,
    masterKeyId(parseMasterKeyHex(input.masterKeyHex)),
    input.stores.sealedValueStore,
  );
  // While retired keys are configured, every server reseals in the background, a batch at a time.
  if (retired.length > 0)
    jobs.push({ name: 'reseal-retired-keys', intervalMs: every, run: () => keyRotation.resealBatch() });
  const idempotencyStore = sealedIdempotencyStore(
    coalescedIdempotency(input, method),
    secrets.box,
    secrets.keyedHash,
  );
  const merchant = createMerchantServices({
    method,
    stores: input.stores,
    configuration: input.configuration,
    sweepIntervalMs: every,
  });
  jobs.push(...merchant.jobs);
  const {
    parties,
    jobs: terminalJobs,
    ...terminal
  } = createTerminalServices({
    database: input.database,
    clock: input.clock,
    method,
    stores: input.stores,
    configuration: input.configuration,
  });
  jobs.push(...terminalJobs);
  return {
    ...method,
    ...merchant.services,
    ...terminal,
    parties,
    idempotencyStore,
    jobs,
    ...operatorToolServices(input, method),
    keyRotation,
  };
}
