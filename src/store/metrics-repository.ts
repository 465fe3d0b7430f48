/**
 * The platform's state as Prometheus reports it: counts read from the database at scrape time. They are the
 * same whichever process answers the scrape, so they stay right with several servers over one PostgreSQL
 * (a per-process counter would see only its own share of payments and deliveries).
 */
import type { SqlExecutor } from '../services/database.js';
import type { PlatformStateCounts, StatusCount } from '../services/operators/platform-state-counts.js';

const countOf = (rows: readonly { count: unknown }[]): number => Number(rows[0]?.count ?? 0);
const statusCounts = (rows: readonly { status: unknown; count: unknown }[]): StatusCount[] =>
  rows.map((row) => ({ status: String(row.status), count: Number(row.count) }));

/** Reads every count in one round of small aggregate queries. */
export async function readPlatformStateCounts(
  executor: SqlExecutor,
  nowMs: number,
): Promise<PlatformStateCounts> {
  const [payments, locks, webhookDeliveries, webhookFailures, deliveries, deliveryFailures] =
    await Promise.all([
      executor.query<{ status: string; count: string }>(
        'SELECT status, count(*)::bigint AS count FROM payments GROUP BY status',
      ),
      executor.query<{ kind: string; count: string }>(
        `SELECT CASE WHEN subject LIKE 'operator:%' THEN 'operator' ELSE 'payer' END AS kind,
                count(*)::bigint AS count
           FROM authentication_failures
          WHERE blocked OR locked_until_ms > $1
          GROUP BY 1`,
        [nowMs],
      ),
      executor.query<{ status: string; count: string }>(
        'SELECT status, count(*)::bigint AS count FROM webhook_deliveries GROUP BY status',
      ),
      executor.query<{ count: string }>(
        `SELECT count(*)::bigint AS count FROM webhook_attempts
          WHERE error IS NOT NULL OR response_status IS NULL OR response_status NOT BETWEEN 200 AND 299`,
      ),
      executor.query<{ status: string; count: string }>(
        'SELECT status, count(*)::bigint AS count FROM deliveries GROUP BY status',
      ),
      executor.query<{ count: string }>(
        'SELECT count(*)::bigint AS count FROM delivery_attempts WHERE NOT succeeded',
      ),
    ]);
  return {
    paymentsByStatus: statusCounts(payments),
    locksByKind: locks.map((row) => ({ kind: String(row.kind), count: Number(row.count) })),
    webhookDeliveriesByStatus: statusCounts(webhookDeliveries),
    webhookAttemptsFailed: countOf(webhookFailures),
    deliveriesByStatus: statusCounts(deliveries),
    deliveryAttemptsFailed: countOf(deliveryFailures),
  };
}
