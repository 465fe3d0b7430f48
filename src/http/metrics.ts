import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CountersignError } from '../domain/errors.js';
import type { PlatformStateCounts, StatusCount } from '../services/operators/platform-state-counts.js';
import type { FastifyTypebox } from './dependencies.js';
import type { BatchCounters, MetricsSources } from './metrics-sources.js';
import { requireOperator } from './operator-auth.js';

/** Latency buckets in seconds: from a cached answer (1 ms) to a slow Argon2 check under load (5 s). */
const latencyBucketsSeconds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Label of a request that matched no route: the raw path would let a scanner grow the label set. */
const unmatchedRoute = 'unmatched';

/** Registers the request hooks and, when a token may scrape, `GET /metrics`. */
export function registerMetrics(app: FastifyTypebox, sources: MetricsSources): Registry {
  const registry = new Registry();
  const requests = new Histogram({
    name: 'countersign_http_request_duration_seconds',
    help: 'HTTP requests by method, route and status, with their latency',
    labelNames: ['method', 'route', 'status'],
    buckets: latencyBucketsSeconds,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'countersign_http_errors_total',
    help: 'Error answers by route and catalog code (an approval refused, a payment failed, a lock)',
    labelNames: ['method', 'route', 'code'],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? unmatchedRoute;
    requests.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onError', async (request, _reply, error) => {
    const code = error instanceof CountersignError ? error.code : 'other';
    errors.inc({ method: request.method, route: request.routeOptions.url ?? unmatchedRoute, code });
  });
  const refresh = registerStateGauges(registry, sources);
  if (sources.tokenHashes.length > 0) registerRoute(app, registry, refresh, sources.tokenHashes);
  return registry;
}

/** Brings the gauges up to date; called before each scrape is written out. */
type Refresh = () => Promise<void>;

/**
 * The gauges read from elsewhere, and one function that fills them all. They are filled before the
 * registry is written out, not in prom-client's `collect` callbacks: the registry runs those
 * concurrently, so a gauge filled by another's callback could be written out before it is filled.
 */
function registerStateGauges(registry: Registry, sources: MetricsSources): Refresh {
  const refreshes: Refresh[] = [];
  if (sources.stateCounts !== undefined) refreshes.push(stateGauges(registry, sources.stateCounts));
  if (sources.batchCounters !== undefined) refreshes.push(batchGauges(registry, sources.batchCounters));
  const inUse = sources.databaseConnectionsInUse;
  if (inUse !== undefined) {
    const gauge = plainGauge(
      registry,
      'countersign_database_connections_in_use',
      "Statements and transactions running now (the scrape's own excluded), each holding a connection",
    );
    // Read first, before the state queries of this scrape run.
    refreshes.unshift(async () => gauge.set(inUse()));
  }
  if (sources.databasePoolSize !== undefined) {
    plainGauge(registry, 'countersign_database_pool_size', 'Connections the pool may open').set(
      sources.databasePoolSize,
    );
  }
  return async () => {
    for (const refresh of refreshes) await refresh();
  };
}

function stateGauges(registry: Registry, stateCounts: () => Promise<PlatformStateCounts>): Refresh {
  const read = plainGauge(
    registry,
    'countersign_state_read_seconds',
    'Time the last scrape took to read the platform state from the database',
  );
  const payments = statusGauge(registry, 'countersign_payments', 'Payments by status, platform-wide');
  const locks = new Gauge({
    name: 'countersign_locks',
    help: 'Payers and operators locked now after failed authentications, or blocked',
    labelNames: ['kind'],
    registers: [registry],
  });
  const webhooks = statusGauge(
    registry,
    'countersign_webhook_deliveries',
    'Webhook deliveries by status (pending is the backlog)',
  );
  const webhookFailures = plainGauge(
    registry,
    'countersign_webhook_attempts_failed',
    'Webhook attempts that failed, all time',
  );
  const deliveries = statusGauge(
    registry,
    'countersign_deliveries',
    'Second-terminal deliveries by status (pending is the backlog)',
  );
  const deliveryFailures = plainGauge(
    registry,
    'countersign_delivery_attempts_failed',
    'Delivery attempts that failed, all time',
  );
  return async () => {
    const started = performance.now();
    const counts = await stateCounts();
    setStatuses(payments, counts.paymentsByStatus);
    locks.reset();
    for (const { kind, count } of counts.locksByKind) locks.set({ kind }, count);
    setStatuses(webhooks, counts.webhookDeliveriesByStatus);
    webhookFailures.set(counts.webhookAttemptsFailed);
    setStatuses(deliveries, counts.deliveriesByStatus);
    deliveryFailures.set(counts.deliveryAttemptsFailed);
    read.set((performance.now() - started) / 1000);
  };
}

function batchGauges(
  registry: Registry,
  batchCounters: () => Readonly<Record<string, BatchCounters>>,
): Refresh {
  const labelled = (name: string, help: string) =>
    new Gauge({ name, help, labelNames: ['operation'], registers: [registry] });
  const batches = labelled(
    'countersign_commit_batches_total',
    'Group-commit batches committed, by operation',
  );
  const inputs = labelled('countersign_commit_batch_operations_total', 'Operations committed in batches');
  const largest = labelled('countersign_commit_batch_size_largest', 'Largest batch so far');
  const mean = labelled('countersign_commit_batch_size_mean', 'Mean operations per batch');
  const rolledBack = labelled(
    'countersign_commit_batches_rolled_back_total',
    'Batches rolled back and split',
  );
  return async () => {
    for (const [operation, counters] of Object.entries(batchCounters())) {
      batches.set({ operation }, counters.batches);
      inputs.set({ operation }, counters.inputs);
      largest.set({ operation }, counters.batchSizeLargest);
      rolledBack.set({ operation }, counters.batchesRolledBack);
      mean.set({ operation }, counters.batches === 0 ? 0 : counters.inputs / counters.batches);
    }
  };
}

const statusGauge = (registry: Registry, name: string, help: string) =>
  new Gauge({ name, help, labelNames: ['status'], registers: [registry] });
const plainGauge = (registry: Registry, name: string, help: string) =>
  new Gauge({ name, help, registers: [registry] });

function setStatuses(gauge: Gauge<'status'>, counts: readonly StatusCount[]): void {
  // A status that no row has any more must read 0, not keep its last value.
  gauge.reset();
  for (const { status, count } of counts) gauge.set({ status }, count);
}

function registerRoute(
  app: FastifyTypebox,
  registry: Registry,
  refresh: Refresh,
  tokenHashes: readonly Uint8Array[],
): void {
  const authorize = requireOperator(tokenHashes, 'countersign-metrics');
  app.get('/metrics', { schema: { hide: true }, preHandler: authorize }, async (_request, reply) => {
    await refresh();
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
}
