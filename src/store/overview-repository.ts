/**
 * The pages' read-only views in SQL. Every list is a keyset page ordered by an indexed key; filters are
 * parameters, never spliced into the SQL text. No query selects a hash, a sealed value or a payload.
 */
import type { Account, Transfer } from '../domain/ledger.js';
import type { PaymentStatus } from '../domain/payment.js';
import type { Row, SqlExecutor } from '../services/database.js';
import type {
  AccountFilter,
  CurrencyBalance,
  Cursor,
  DeliverySummary,
  MinuteCount,
  OverviewStore,
  PayeeCurrencyBalance,
  PayeeSummary,
  PayerSummary,
  PaymentListing,
  TransferFilter,
} from '../services/operators/overview-service.js';
import { accountFromRow, transferFromRow } from './ledger-repository.js';
import { paymentFromRow } from './payment-repository.js';

/** Escapes `%`, `_` and `\` so that a search term matches itself as a LIKE prefix. */
function likePrefix(term: string): string {
  return `${term.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** Builds `WHERE a AND b …` with numbered parameters from optional conditions. */
class Conditions {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  add(clause: (placeholder: (value: unknown) => string) => string): void {
    this.clauses.push(clause((value) => `$${this.params.push(value)}`));
  }

  where(): string {
    return this.clauses.length === 0 ? '' : `WHERE ${this.clauses.join(' AND ')}`;
  }

  next(value: unknown): string {
    return `$${this.params.push(value)}`;
  }
}

async function payerBalances(executor: SqlExecutor, payerId: string): Promise<CurrencyBalance[]> {
  const rows = await executor.query<{ currency: string; available: bigint; held: bigint }>(
    `SELECT currency, credits_posted - debits_posted - debits_pending AS available, debits_pending AS held
     FROM accounts WHERE kind = 'payer' AND owner_id = $1 ORDER BY currency`,
    [payerId],
  );
  return rows.map((row) => ({ currency: row.currency, available: row.available, held: row.held }));
}

async function payeeBalances(executor: SqlExecutor, payeeId: string): Promise<PayeeCurrencyBalance[]> {
  const rows = await executor.query<{ currency: string; available: bigint; incoming: bigint }>(
    `SELECT currency, credits_posted - debits_posted - debits_pending AS available, credits_pending AS incoming
     FROM accounts WHERE kind IN ('payee', 'merchant') AND owner_id = $1 ORDER BY currency`,
    [payeeId],
  );
  return rows.map((row) => ({ currency: row.currency, available: row.available, incoming: row.incoming }));
}

async function payments(
  executor: SqlExecutor,
  filter: { readonly payerId?: string; readonly payeeId?: string },
  after: Cursor | undefined,
  limit: number,
): Promise<PaymentListing[]> {
  const conditions = new Conditions();
  if (filter.payerId !== undefined) conditions.add((p) => `p.payer_id = ${p(filter.payerId)}`);
  if (filter.payeeId !== undefined) conditions.add((p) => `p.payee_id = ${p(filter.payeeId)}`);
  if (after !== undefined) {
    conditions.add(
      (p) => `(p.created_at_ms, p.id) < (${p(after.createdAtMs)}::bigint, ${p(after.id)}::uuid)`,
    );
  }
  const rows = await executor.query<Parameters<typeof paymentFromRow>[0] & { payee_name: string }>(
    `SELECT p.id, p.payer_id, p.payee_id, p.amount, p.currency, p.status, p.deliver_to, p.hold_transfer_id,
       p.failed_approvals, p.payment_request_id, p.metadata, p.created_at_ms, p.expires_at_ms, p.updated_at_ms,
       e.name AS payee_name
     FROM payments p JOIN payees e ON e.id = p.payee_id
     ${conditions.where()}
     ORDER BY p.created_at_ms DESC, p.id DESC LIMIT ${conditions.next(limit)}`,
    conditions.params,
  );
  return rows.map((row) => ({ payment: paymentFromRow(row), payeeName: row.payee_name }));
}

async function payeeName(executor: SqlExecutor, payeeId: string): Promise<string | undefined> {
  const [row] = await executor.query<{ name: string }>('SELECT name FROM payees WHERE id = $1', [payeeId]);
  return row?.name;
}

interface PayerRow extends Row {
  id: string;
  created_at_ms: bigint;
  consecutive_failures: number | null;
  locked_until_ms: bigint | null;
  blocked: boolean | null;
  consecutive_locks: number | null;
  active_terminals: bigint;
}

async function payers(
  executor: SqlExecutor,
  idPrefix: string,
  afterId: string | undefined,
  limit: number,
): Promise<Omit<PayerSummary, 'locked'>[]> {
  const conditions = new Conditions();
  if (idPrefix !== '') conditions.add((p) => `p.id LIKE ${p(likePrefix(idPrefix))}`);
  if (afterId !== undefined) conditions.add((p) => `p.id > ${p(afterId)}`);
  const rows = await executor.query<PayerRow>(
    `SELECT p.id, p.created_at_ms, f.consecutive_failures, f.locked_until_ms, f.blocked, f.consecutive_locks,
       (SELECT count(*) FROM terminals t WHERE t.payer_id = p.id AND t.status = 'active') AS active_terminals
     FROM payers p LEFT JOIN authentication_failures f ON f.subject = p.id
     ${conditions.where()} ORDER BY p.id LIMIT ${conditions.next(limit)}`,
    conditions.params,
  );
  return rows.map((row) => ({
    id: row.id,
    createdAtMs: Number(row.created_at_ms),
    consecutiveFailures: row.consecutive_failures ?? 0,
    lockedUntilMs: row.locked_until_ms === null ? null : Number(row.locked_until_ms),
    blocked: row.blocked ?? false,
    consecutiveLocks: row.consecutive_locks ?? 0,
    activeTerminals: Number(row.active_terminals),
  }));
}

async function payees(
  executor: SqlExecutor,
  prefix: string,
  afterId: string | undefined,
  limit: number,
): Promise<PayeeSummary[]> {
  const conditions = new Conditions();
  if (prefix !== '') {
    conditions.add((p) => {
      const pattern = p(likePrefix(prefix.toLowerCase()));
      return `(lower(id) LIKE ${pattern} OR lower(name) LIKE ${pattern})`;
    });
  }
  if (afterId !== undefined) conditions.add((p) => `id > ${p(afterId)}`);
  const rows = await executor.query<{
    id: string;
    name: string;
    kind: 'payee' | 'merchant';
    created_at_ms: bigint;
  }>(
    `SELECT id, name, kind, created_at_ms FROM payees ${conditions.where()} ORDER BY id LIMIT ${conditions.next(limit)}`,
    conditions.params,
  );
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    kind: row.kind,
    createdAtMs: Number(row.created_at_ms),
  }));
}

async function accounts(
  executor: SqlExecutor,
  filter: AccountFilter,
  afterId: string | undefined,
  limit: number,
): Promise<Account[]> {
  const conditions = new Conditions();
  if (filter.currency !== undefined) conditions.add((p) => `currency = ${p(filter.currency)}`);
  if (filter.kind !== undefined) conditions.add((p) => `kind = ${p(filter.kind)}`);
  if (filter.owner !== undefined) conditions.add((p) => `owner_id LIKE ${p(likePrefix(filter.owner ?? ''))}`);
  if (afterId !== undefined) conditions.add((p) => `id > ${p(afterId)}::uuid`);
  const rows = await executor.query<Parameters<typeof accountFromRow>[0]>(
    `SELECT id, currency, kind, owner_id, debits_must_not_exceed_credits, credits_must_not_exceed_debits,
       debits_pending, debits_posted, credits_pending, credits_posted
     FROM accounts ${conditions.where()} ORDER BY id LIMIT ${conditions.next(limit)}`,
    conditions.params,
  );
  return rows.map(accountFromRow);
}

async function transfers(
  executor: SqlExecutor,
  filter: TransferFilter,
  after: Cursor | undefined,
  limit: number,
): Promise<Transfer[]> {
  const conditions = new Conditions();
  if (filter.currency !== undefined) conditions.add((p) => `currency = ${p(filter.currency)}`);
  if (filter.kind !== undefined) conditions.add((p) => `kind = ${p(filter.kind)}`);
  if (filter.accountId !== undefined) {
    conditions.add((p) => {
      const account = p(filter.accountId);
      return `(debit_account_id = ${account}::uuid OR credit_account_id = ${account}::uuid)`;
    });
  }
  if (filter.reference !== undefined)
    conditions.add((p) => `reference LIKE ${p(likePrefix(filter.reference ?? ''))}`);
  if (after !== undefined) {
    conditions.add((p) => `(created_at_ms, id) < (${p(after.createdAtMs)}::bigint, ${p(after.id)}::uuid)`);
  }
  const rows = await executor.query<Parameters<typeof transferFromRow>[0]>(
    `SELECT id, kind, debit_account_id, credit_account_id, amount, currency, pending_id, timeout_at_ms,
       reference, created_at_ms
     FROM transfers ${conditions.where()} ORDER BY created_at_ms DESC, id DESC LIMIT ${conditions.next(limit)}`,
    conditions.params,
  );
  return rows.map(transferFromRow);
}

interface DeliveryRow extends Row {
  id: string;
  payer_id: string;
  payment_id: string | null;
  channel: string;
  status: DeliverySummary['status'];
  attempts: number;
  next_attempt_at_ms: bigint;
  last_error: string | null;
  created_at_ms: bigint;
  delivered_at_ms: bigint | null;
}

async function deliveries(
  executor: SqlExecutor,
  after: Cursor | undefined,
  limit: number,
): Promise<DeliverySummary[]> {
  const conditions = new Conditions();
  if (after !== undefined) {
    conditions.add((p) => `(created_at_ms, id) < (${p(after.createdAtMs)}::bigint, ${p(after.id)}::uuid)`);
  }
  // payload_sealed is deliberately not selected: the outbox view never holds a code, sealed or not.
  const rows = await executor.query<DeliveryRow>(
    `SELECT id, payer_id, payment_id, channel, status, attempts, next_attempt_at_ms, last_error,
       created_at_ms, delivered_at_ms
     FROM deliveries ${conditions.where()} ORDER BY created_at_ms DESC, id DESC LIMIT ${conditions.next(limit)}`,
    conditions.params,
  );
  return rows.map((row) => ({
    id: row.id,
    payerId: row.payer_id,
    paymentId: row.payment_id,
    channel: row.channel,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAtMs: Number(row.next_attempt_at_ms),
    lastError: row.last_error,
    createdAtMs: Number(row.created_at_ms),
    deliveredAtMs: row.delivered_at_ms === null ? null : Number(row.delivered_at_ms),
  }));
}

async function paymentsPerMinute(executor: SqlExecutor, sinceMs: number): Promise<MinuteCount[]> {
  const rows = await executor.query<{ minute: bigint; count: bigint }>(
    `SELECT created_at_ms / 60000 AS minute, count(*) AS count FROM payments
     WHERE created_at_ms >= $1::bigint GROUP BY created_at_ms / 60000`,
    [sinceMs],
  );
  return rows.map((row) => ({ minuteStartMs: Number(row.minute) * 60_000, count: Number(row.count) }));
}

async function recentPaymentStats(
  executor: SqlExecutor,
  sinceMs: number,
): Promise<{ byStatus: Partial<Record<PaymentStatus, number>>; failedApprovals: number }> {
  const rows = await executor.query<{ status: PaymentStatus; count: bigint; failed_approvals: bigint }>(
    `SELECT status, count(*) AS count, sum(failed_approvals)::bigint AS failed_approvals FROM payments
     WHERE created_at_ms >= $1::bigint GROUP BY status`,
    [sinceMs],
  );
  const byStatus: Partial<Record<PaymentStatus, number>> = {};
  let failedApprovals = 0;
  for (const row of rows) {
    byStatus[row.status] = Number(row.count);
    failedApprovals += Number(row.failed_approvals);
  }
  return { byStatus, failedApprovals };
}

async function openHolds(
  executor: SqlExecutor,
): Promise<{ currency: string; count: number; amount: bigint }[]> {
  const rows = await executor.query<{ currency: string; count: bigint; amount: bigint }>(
    `SELECT t.currency, count(*) AS count, sum(t.amount)::bigint AS amount
     FROM pending_transfers p JOIN transfers t ON t.id = p.id
     WHERE p.status = 'pending' GROUP BY t.currency ORDER BY t.currency`,
  );
  return rows.map((row) => ({ currency: row.currency, count: Number(row.count), amount: row.amount }));
}

async function lockedPayers(executor: SqlExecutor, nowMs: number): Promise<number> {
  const [row] = await executor.query<{ count: bigint }>(
    `SELECT count(*) AS count FROM authentication_failures f JOIN payers p ON p.id = f.subject
     WHERE f.blocked OR f.locked_until_ms > $1::bigint`,
    [nowMs],
  );
  return Number(row?.count ?? 0n);
}

/** The SQL implementation of OverviewStore. */
export const sqlOverviewStore: OverviewStore = Object.freeze({
  payerBalances,
  payeeBalances,
  payments,
  payeeName,
  payers,
  payees,
  accounts,
  transfers,
  deliveries,
  paymentsPerMinute,
  recentPaymentStats,
  openHolds,
  lockedPayers,
});
