/**
 * The whole platform's services, built once from configuration-derived inputs. `main.ts`, the CLI and
 * the test harnesses call this, so every entry point shares one wiring.
 */
import type { Clock } from '../domain/clock.js';
import type { Database } from '../store/database.js';
import type { BackgroundJob } from './background-jobs.js';
import type { IdempotencyStore } from './idempotency.js';
import { idempotencyPurgeBatchSizeMax } from './idempotency.js';
import {
  createMethodServices,
  type MethodConfiguration,
  type MethodServiceSet,
  type MethodStores,
} from './method-services.js';
import { hashPassword, verifyPasswordOrDummy } from './passwords.js';
import { createSecrets } from './secrets.js';

/** Stores of the whole platform. */
export interface PlatformStores extends MethodStores {
  readonly idempotencyStore: IdempotencyStore;
}

/** Inputs of the platform. */
export interface PlatformInput {
  readonly database: Database;
  readonly clock: Clock;
  readonly configuration: MethodConfiguration & { readonly sweepIntervalMs: number };
  readonly masterKeyHex: string;
  readonly stores: PlatformStores;
}

/** Every service of the platform, and the background jobs a server process runs. */
export interface PlatformServices extends MethodServiceSet {
  readonly idempotencyStore: IdempotencyStore;
  readonly jobs: readonly BackgroundJob[];
}

/** Builds every service and the list of background jobs. */
export function createPlatformServices(input: PlatformInput): PlatformServices {
  const method = createMethodServices({
    database: input.database,
    clock: input.clock,
    configuration: input.configuration,
    secrets: createSecrets(input.masterKeyHex),
    passwords: { hashPassword, verifyPasswordOrDummy },
    stores: input.stores,
  });
  const every = input.configuration.sweepIntervalMs;
  const jobs: BackgroundJob[] = [
    { name: 'expire-payments', intervalMs: every, run: () => method.payments.expireDue() },
    { name: 'expire-holds', intervalMs: every, run: () => method.ledger.expireDue() },
    {
      name: 'purge-idempotency-keys',
      intervalMs: Math.max(every, 60_000),
      run: () =>
        input.stores.idempotencyStore.purgeExpired(input.clock.nowMs(), idempotencyPurgeBatchSizeMax),
    },
  ];
  return { ...method, idempotencyStore: input.stores.idempotencyStore, jobs };
}
