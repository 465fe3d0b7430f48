/**
 * What `/metrics` reads besides the counters it keeps itself. Apart from `metrics.ts` so that the app's
 * dependencies can name it without importing the metrics plugin, which imports them.
 */
import type { PlatformStateCounts } from '../services/operators/platform-state-counts.js';

/** Group-commit counters of one kind of payment operation. */
export interface BatchCounters {
  readonly batches: number;
  readonly inputs: number;
  readonly batchSizeLargest: number;
  readonly batchesRolledBack: number;
}

/** Where `/metrics` reads what it does not count itself; each source is optional. */
export interface MetricsSources {
  /**
   * SHA-256 digests of the tokens that may scrape: the operator token's and, when set, METRICS_TOKEN's.
   * With none, `/metrics` is not registered at all.
   */
  readonly tokenHashes: readonly Uint8Array[];
  readonly stateCounts?: () => Promise<PlatformStateCounts>;
  readonly batchCounters?: () => Readonly<Record<string, BatchCounters>>;
  readonly databaseConnectionsInUse?: () => number;
  readonly databasePoolSize?: number;
}
