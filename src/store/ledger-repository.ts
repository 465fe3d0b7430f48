/**
 * The ledger in SQL. A batch runs inside the caller's transaction: it locks the pending transfers it
 * resolves and then the accounts it touches, each set in id order (so two batches never wait on each
 * other in a cycle), applies the pure rules of `domain/ledger`, and writes each table with one statement.
 */
import {
  type Account,
  type AccountKind,
  applyTransfers,
  assertAccountInvariants,
  batchDependencies,
  type PendingStatus,
  type PendingTransferState,
  type Transfer,
  type TransferRequest,
  type TransferResult,
} from '../domain/ledger.js';
import type { Row, SqlExecutor } from '../services/database.js';
import type { AccountRequest, LedgerStore, PlannedTransfers } from '../services/ledger/ledger-service.js';
import { verifyLedgerIn } from './ledger-verify.js';

interface AccountRow extends Row {
  id: string;
  currency: string;
  kind: AccountKind;
  owner_id: string | null;
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
}

interface TransferRow extends Row {
  id: string;
  kind: Transfer['kind'];
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  currency: string;
  pending_id: string | null;
  timeout_at_ms: bigint | null;
  reference: string | null;
  created_at_ms: bigint;
}

/** Maps an accounts row to the domain's Account, checking its invariants on the way in. */
export function accountFromRow(row: AccountRow): Account {
  const account: Account = {
    id: row.id,
    currency: row.currency,
    kind: row.kind,
    ownerId: row.owner_id,
    debitsMustNotExceedCredits: row.debits_must_not_exceed_credits,
    creditsMustNotExceedDebits: row.credits_must_not_exceed_debits,
    debitsPending: row.debits_pending,
    debitsPosted: row.debits_posted,
    creditsPending: row.credits_pending,
    creditsPosted: row.credits_posted,
  };
  assertAccountInvariants(account);
  return account;
}

/** Maps a transfers row to the domain's Transfer. */
export function transferFromRow(row: TransferRow): Transfer {
  return {
    id: row.id,
    kind: row.kind,
    debitAccountId: row.debit_account_id,
    creditAccountId: row.credit_account_id,
    amount: row.amount,
    currency: row.currency,
    pendingId: row.pending_id,
    timeoutAtMs: row.timeout_at_ms === null ? null : Number(row.timeout_at_ms),
    reference: row.reference,
    createdAtMs: Number(row.created_at_ms),
  };
}

/** Creates accounts, idempotently by id; returns the accounts as stored. */
export async function insertAccounts(
  tx: SqlExecutor,
  requests: readonly AccountRequest[],
  nowMs: number,
): Promise<Account[]> {
  if (requests.length === 0) return [];
  await tx.query(
    `INSERT INTO accounts (id, currency, kind, owner_id, debits_must_not_exceed_credits,
       credits_must_not_exceed_debits, created_at_ms)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]::boolean[], $6::text[]::boolean[],
       $7::bigint[])
     ON CONFLICT DO NOTHING`,
    [
      requests.map((r) => r.id),
      requests.map((r) => r.currency),
      requests.map((r) => r.kind),
      requests.map((r) => r.ownerId ?? null),
      requests.map((r) => r.debitsMustNotExceedCredits),
      requests.map((r) => r.creditsMustNotExceedDebits ?? false),
      requests.map(() => String(nowMs)),
    ],
  );
  return selectAccounts(
    tx,
    requests.map((r) => r.id),
    false,
  );
}

/** Reads accounts by id, optionally locking them in id order. */
export async function selectAccounts(
  tx: SqlExecutor,
  ids: readonly string[],
  lock: boolean,
): Promise<Account[]> {
  if (ids.length === 0) return [];
  const rows = await tx.query<AccountRow>(
    `SELECT * FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id${lock ? ' FOR NO KEY UPDATE' : ''}`,
    [[...ids]],
  );
  return rows.map(accountFromRow);
}

async function loadSnapshot(
  tx: SqlExecutor,
  requests: readonly TransferRequest[],
  alongside: (() => Promise<unknown>) | undefined,
) {
  const dependencies = batchDependencies(requests);
  // Pending transfers first, then accounts: every batch takes its locks in this one order. A batch that
  // resolves no hold (only new holds and single transfers) skips the round trip.
  const pendingRows =
    dependencies.pendingIds.length === 0
      ? []
      : await tx.query<TransferRow & { status: PendingStatus }>(
          `SELECT t.*, p.status FROM pending_transfers p JOIN transfers t ON t.id = p.id
           WHERE p.id = ANY($1::uuid[]) ORDER BY p.id FOR NO KEY UPDATE OF p`,
          [dependencies.pendingIds],
        );
  const pending = new Map<string, PendingTransferState>();
  const accountIds = new Set(dependencies.accountIds);
  for (const row of pendingRows) {
    const transfer = transferFromRow(row);
    pending.set(transfer.id, { transfer, status: row.status });
    accountIds.add(transfer.debitAccountId);
    accountIds.add(transfer.creditAccountId);
  }
  // Transfers already recorded under the batch's ids are read after the locks: a concurrent batch with
  // the same new id has then committed, and this one answers `exists` instead of hitting the primary key.
  // Both statements are sent together (one round trip), then the caller's `alongside`; the server runs
  // them in order, so whatever `alongside` locks is locked after the accounts.
  const [accounts, existingRows] = await Promise.all([
    selectAccounts(tx, [...accountIds].sort(), true),
    tx.query<TransferRow>('SELECT * FROM transfers WHERE id = ANY($1::uuid[])', [dependencies.transferIds]),
    alongside?.(),
  ]);
  const existing = new Map(existingRows.map((row) => [row.id, transferFromRow(row)]));
  return { accounts: new Map(accounts.map((account) => [account.id, account])), pending, existing };
}

/**
 * Creates a batch of transfers inside `tx`. Returns one result per request, in order; a refused
 * transfer changes nothing and never fails its neighbours.
 */
export async function createTransfersIn(
  tx: SqlExecutor,
  requests: readonly TransferRequest[],
  nowMs: number,
): Promise<TransferResult[]> {
  const planned = await planTransfersIn(tx, requests, nowMs);
  await planned.write();
  return [...planned.results];
}

/**
 * Locks and reads what a batch touches and decides every transfer; `write()` then records the decisions.
 * A caller with statements of its own to run under the same locks sends them together with `write()`,
 * so that the rows stay locked for one round trip less. `alongside` starts the caller's own statements
 * right after the accounts' lock, in the same round trip (the audit head's lock, last in the lock order).
 */
export async function planTransfersIn(
  tx: SqlExecutor,
  requests: readonly TransferRequest[],
  nowMs: number,
  alongside?: () => Promise<unknown>,
): Promise<PlannedTransfers> {
  if (requests.length === 0) {
    await alongside?.();
    return { results: [], write: async () => {} };
  }
  const snapshot = await loadSnapshot(tx, requests, alongside);
  const changes = applyTransfers(snapshot, requests, nowMs);
  return {
    results: changes.results,
    // The writes are sent together, in this order (pending rows reference the new transfers), in one
    // round trip; the server runs them in order, and the first failure fails the transaction.
    write: async () => {
      await Promise.all([
        writeTransfers(tx, changes.transfers),
        writePending(tx, changes.newPending, changes.resolved),
        writeAccounts(tx, snapshot.accounts, changes.accounts),
      ]);
    },
  };
}

async function writeTransfers(tx: SqlExecutor, transfers: readonly Transfer[]): Promise<void> {
  if (transfers.length === 0) return;
  await tx.query(
    `INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, currency, pending_id,
       timeout_at_ms, reference, created_at_ms)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::bigint[], $6::text[], $7::uuid[],
       $8::bigint[], $9::text[], $10::bigint[])`,
    [
      transfers.map((t) => t.id),
      transfers.map((t) => t.kind),
      transfers.map((t) => t.debitAccountId),
      transfers.map((t) => t.creditAccountId),
      transfers.map((t) => t.amount.toString()),
      transfers.map((t) => t.currency),
      transfers.map((t) => t.pendingId),
      transfers.map((t) => (t.timeoutAtMs === null ? null : String(t.timeoutAtMs))),
      transfers.map((t) => t.reference),
      transfers.map((t) => String(t.createdAtMs)),
    ],
  );
}

async function writePending(
  tx: SqlExecutor,
  created: readonly Transfer[],
  resolved: readonly { pendingId: string; status: PendingStatus; by: string }[],
): Promise<void> {
  // A hold created and resolved in the same batch is inserted with its final status.
  const resolvedById = new Map(resolved.map((r) => [r.pendingId, r]));
  if (created.length > 0) {
    await tx.query(
      `INSERT INTO pending_transfers (id, status, timeout_at_ms, resolved_by)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[])`,
      [
        created.map((t) => t.id),
        created.map((t) => resolvedById.get(t.id)?.status ?? 'pending'),
        created.map((t) => String(t.timeoutAtMs)),
        created.map((t) => resolvedById.get(t.id)?.by ?? null),
      ],
    );
  }
  const createdIds = new Set(created.map((t) => t.id));
  const updates = resolved.filter((r) => !createdIds.has(r.pendingId));
  if (updates.length === 0) return;
  await tx.query(
    `UPDATE pending_transfers p SET status = u.status, resolved_by = u.by
     FROM unnest($1::uuid[], $2::text[], $3::uuid[]) AS u(id, status, by)
     WHERE p.id = u.id AND p.status = 'pending'`,
    [updates.map((u) => u.pendingId), updates.map((u) => u.status), updates.map((u) => u.by)],
  );
}

async function writeAccounts(
  tx: SqlExecutor,
  before: ReadonlyMap<string, Account>,
  after: ReadonlyMap<string, Account>,
): Promise<void> {
  const changed = [...after.values()].filter((account) => {
    const old = before.get(account.id)!;
    return (
      old.debitsPending !== account.debitsPending ||
      old.debitsPosted !== account.debitsPosted ||
      old.creditsPending !== account.creditsPending ||
      old.creditsPosted !== account.creditsPosted
    );
  });
  if (changed.length === 0) return;
  // Deltas, not absolute values: correct even if a reader misjudged what the lock protects.
  const delta = (
    account: Account,
    key: 'debitsPending' | 'debitsPosted' | 'creditsPending' | 'creditsPosted',
  ) => (account[key] - before.get(account.id)![key]).toString();
  await tx.query(
    `UPDATE accounts a SET debits_pending = a.debits_pending + d.dp, debits_posted = a.debits_posted + d.dpo,
       credits_pending = a.credits_pending + d.cp, credits_posted = a.credits_posted + d.cpo
     FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS d(id, dp, dpo, cp, cpo)
     WHERE a.id = d.id`,
    [
      changed.map((a) => a.id),
      changed.map((a) => delta(a, 'debitsPending')),
      changed.map((a) => delta(a, 'debitsPosted')),
      changed.map((a) => delta(a, 'creditsPending')),
      changed.map((a) => delta(a, 'creditsPosted')),
    ],
  );
}

/** Pending transfers whose timeout has passed, oldest first; rows another process holds are skipped. */
export async function selectDuePending(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM pending_transfers WHERE status = 'pending' AND timeout_at_ms <= $1
     ORDER BY timeout_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [String(nowMs), limit],
  );
  return rows.map((row) => row.id);
}

/** Reads one transfer by id. */
export async function selectTransfer(tx: SqlExecutor, id: string): Promise<Transfer | undefined> {
  const rows = await tx.query<TransferRow>('SELECT * FROM transfers WHERE id = $1', [id]);
  return rows[0] === undefined ? undefined : transferFromRow(rows[0]);
}

/** The SQL implementation of the ledger's storage interface. */
export const sqlLedgerStore: LedgerStore = Object.freeze({
  insertAccounts,
  selectAccounts,
  createTransfersIn,
  planTransfersIn,
  selectDuePending,
  verifyLedgerIn,
});
