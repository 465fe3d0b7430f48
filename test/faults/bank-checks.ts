// The bank test's final checks, read straight from the database after the server stopped, and the ledger
// and audit verifiers run through the CLI. Each broken rule is one line of the returned violations.
import path from 'node:path';
import type { Database } from '../../src/services/database.js';
import { derivedId, type KeyedHash } from '../../src/services/ids.js';
import { createSecrets } from '../../src/services/keys/secrets.js';
import { accountId } from '../../src/services/ledger/accounts.js';
import { openPglite } from '../../src/store/pglite-database.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { runCli } from './server-process.js';

/** A deposit the clients asked for, and whether an answer acknowledged it. */
export interface DepositRecord {
  readonly key: string;
  readonly payerId: string;
  readonly currency: string;
  readonly amount: number;
  acked: boolean;
}

/** A payment the clients asked for: its id (derived from the key), what was acknowledged. */
export interface PaymentRecord {
  readonly key: string;
  readonly id: string;
  readonly payerId: string;
  readonly amount: number;
  readonly currency: string;
  created: 'acked' | 'refused' | 'indeterminate';
  /** The final status an answer acknowledged (`succeeded`, `canceled`), if any. */
  outcome: string | undefined;
}

/** Everything the clients did, by idempotency key. */
export interface BankHistory {
  readonly deposits: Map<string, DepositRecord>;
  readonly payments: Map<string, PaymentRecord>;
}

async function openChecked(engine: string, env: Readonly<Record<string, string>>): Promise<Database> {
  if (engine === 'postgres') return openPostgres({ url: env['DATABASE_URL']!, poolSize: 2 });
  return openPglite({ dataDir: path.join(env['DATA_DIR']!, 'pglite') });
}

/** Checks the database against the history; returns the violations and the figures behind them. */
export async function checkBank(
  engine: string,
  env: Readonly<Record<string, string>>,
  history: BankHistory,
): Promise<{ violations: string[]; facts: Record<string, number | string> }> {
  const violations: string[] = [];
  const facts: Record<string, number | string> = {};
  const database = await openChecked(engine, env);
  try {
    await checkDeposits(database, history, createSecrets(env['MASTER_KEY']!).keyedHash, violations, facts);
    await checkConservation(database, violations);
    await checkPayments(database, history, violations, facts);
    const [open] = await database.query<{ n: bigint }>(
      `SELECT count(*)::bigint AS n FROM pending_transfers WHERE status = 'pending'`,
    );
    if (Number(open?.n ?? 0n) !== 0)
      violations.push(`${open?.n} holds still pending after every payment ended`);
    const [keys] = await database.query<{ n: bigint }>(
      `SELECT count(*)::bigint AS n FROM idempotency_keys WHERE status = 'in_progress'`,
    );
    facts['idempotencyKeysInProgress'] = Number(keys?.n ?? 0n);
  } finally {
    await database.close();
  }
  for (const tool of ['ledger', 'audit']) {
    const result = await runCli([tool, 'verify'], env);
    if (result.code !== 0) violations.push(`${tool} verify failed: ${result.stdout}${result.stderr}`.trim());
  }
  return { violations, facts };
}

async function checkDeposits(
  database: Database,
  history: BankHistory,
  keyedHash: KeyedHash,
  violations: string[],
  facts: Record<string, number | string>,
): Promise<void> {
  const rows = await database.query<{
    id: string;
    amount: bigint;
    currency: string;
    credit: string;
    debit: string;
  }>(
    `SELECT id::text AS id, amount, currency, credit_account_id::text AS credit, debit_account_id::text AS debit
       FROM transfers WHERE kind = 'single'`,
  );
  const ledger = new Map(rows.map((row) => [row.id, row]));
  const asked = new Set<string>();
  let acked = 0;
  for (const record of history.deposits.values()) {
    const id = derivedId(keyedHash, 'deposit', `operator:${record.key}`);
    asked.add(id);
    if (record.acked) acked += 1;
    const row = ledger.get(id);
    if (row === undefined) {
      if (record.acked) violations.push(`acknowledged deposit ${record.key} is not in the ledger`);
      continue;
    }
    const wallet = accountId('payer', record.payerId, record.currency);
    if (row.amount !== BigInt(record.amount) || row.credit !== wallet || row.currency !== record.currency) {
      violations.push(`deposit ${record.key} was recorded with other fields`);
    }
    if (row.debit !== accountId('funding', 'deposits', record.currency)) {
      violations.push(`deposit ${record.key} did not come from the funding account`);
    }
  }
  for (const id of ledger.keys()) if (!asked.has(id)) violations.push(`transfer ${id} was never asked for`);
  facts['depositsAcknowledged'] = acked;
  facts['depositsInLedger'] = ledger.size;
}

async function checkConservation(database: Database, violations: string[]): Promise<void> {
  const rows = await database.query<{
    currency: string;
    deposits: bigint;
    held_balances: bigint;
    funding: bigint;
    pending_debits: bigint;
    pending_credits: bigint;
    negative: bigint;
  }>(
    `SELECT a.currency,
            (SELECT coalesce(sum(t.amount), 0)::bigint FROM transfers t
              WHERE t.kind = 'single' AND t.currency = a.currency) AS deposits,
            coalesce(sum(a.credits_posted - a.debits_posted) FILTER (WHERE a.kind <> 'funding'), 0)::bigint
              AS held_balances,
            coalesce(sum(a.debits_posted - a.credits_posted) FILTER (WHERE a.kind = 'funding'), 0)::bigint AS funding,
            sum(a.debits_pending)::bigint AS pending_debits,
            sum(a.credits_pending)::bigint AS pending_credits,
            count(*) FILTER (WHERE a.kind <> 'funding'
              AND a.credits_posted - a.debits_posted - a.debits_pending < 0)::bigint AS negative
       FROM accounts a GROUP BY a.currency ORDER BY a.currency`,
  );
  for (const row of rows) {
    if (row.deposits !== row.held_balances || row.deposits !== row.funding) {
      violations.push(
        `${row.currency}: deposits ${row.deposits} but balances ${row.held_balances} (funding ${row.funding})`,
      );
    }
    if (row.pending_debits !== row.pending_credits) {
      violations.push(
        `${row.currency}: pending debits ${row.pending_debits} ≠ credits ${row.pending_credits}`,
      );
    }
    if (row.negative !== 0n) violations.push(`${row.currency}: ${row.negative} accounts below zero`);
  }
}

const holdStatusesOf: Readonly<Record<string, readonly string[]>> = {
  succeeded: ['posted'],
  canceled: ['voided', 'expired'],
  failed: ['voided', 'expired'],
  expired: ['expired', 'voided'],
};

async function checkPayments(
  database: Database,
  history: BankHistory,
  violations: string[],
  facts: Record<string, number | string>,
): Promise<void> {
  const rows = await database.query<{
    id: string;
    status: string;
    amount: bigint;
    currency: string;
    payer_id: string;
    hold_status: string;
    hold_amount: bigint;
    posts: bigint;
    posted_amount: bigint | null;
    holds: bigint;
  }>(
    `SELECT p.id::text AS id, p.status, p.amount, p.currency, p.payer_id, pt.status AS hold_status,
            h.amount AS hold_amount,
            (SELECT count(*) FROM transfers t WHERE t.kind = 'post' AND t.pending_id = p.hold_transfer_id)::bigint
              AS posts,
            (SELECT max(t.amount) FROM transfers t WHERE t.kind = 'post' AND t.pending_id = p.hold_transfer_id)
              AS posted_amount,
            (SELECT count(*) FROM transfers t WHERE t.kind = 'pending' AND t.reference = 'payment:' || p.id::text)::bigint
              AS holds
       FROM payments p
       JOIN pending_transfers pt ON pt.id = p.hold_transfer_id
       JOIN transfers h ON h.id = p.hold_transfer_id`,
  );
  const byId = new Map([...history.payments.values()].map((record) => [record.id, record]));
  const stored = new Map(rows.map((row) => [row.id, row]));
  const statuses: Record<string, number> = {};
  for (const row of rows) {
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
    const record = byId.get(row.id);
    if (record === undefined) {
      violations.push(`payment ${row.id} was never asked for`);
      continue;
    }
    if (
      row.amount !== BigInt(record.amount) ||
      row.currency !== record.currency ||
      row.payer_id !== record.payerId
    )
      violations.push(`payment ${record.key} was recorded with other fields`);
    if (record.created === 'refused') violations.push(`payment ${record.key} exists although it was refused`);
    if (!(holdStatusesOf[row.status] ?? []).includes(row.hold_status))
      violations.push(`payment ${record.key} is ${row.status} but its hold is ${row.hold_status}`);
    if (row.posts > 1n) violations.push(`payment ${record.key} was posted ${row.posts} times`);
    if (row.status === 'succeeded' && (row.posts !== 1n || row.posted_amount !== row.amount))
      violations.push(`payment ${record.key} succeeded but its post is missing or of another amount`);
    if (row.holds !== 1n || row.hold_amount !== row.amount)
      violations.push(`payment ${record.key} has ${row.holds} holds or a hold of another amount`);
  }
  let acknowledged = 0;
  let acknowledgedSucceeded = 0;
  for (const record of history.payments.values()) {
    const row = stored.get(record.id);
    if (record.created === 'acked') acknowledged += 1;
    if (record.created === 'acked' && row === undefined)
      violations.push(`acknowledged payment ${record.key} is not in the database`);
    if (record.outcome === undefined) continue;
    if (record.outcome === 'succeeded') acknowledgedSucceeded += 1;
    if (row?.status !== record.outcome)
      violations.push(
        `payment ${record.key} was acknowledged ${record.outcome} but is ${row?.status ?? 'missing'}`,
      );
  }
  facts['paymentsAsked'] = history.payments.size;
  facts['paymentsAcknowledged'] = acknowledged;
  facts['paymentsStored'] = rows.length;
  facts['succeededAcknowledged'] = acknowledgedSucceeded;
  for (const [status, n] of Object.entries(statuses).sort()) facts[status] = n;
}
