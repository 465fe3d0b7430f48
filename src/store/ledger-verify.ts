/**
 * Ledger verification: recomputes what the counters should be from the append-only history and checks
 * every invariant by name. It reads everything, so it is an audit tool, not a hot path.
 */
import type { LedgerCheck, LedgerVerification } from '../domain/ledger-verification.js';
import { limits } from '../domain/limits.js';
import type { SqlExecutor } from '../services/database.js';

async function check(tx: SqlExecutor, name: string, sql: string): Promise<LedgerCheck> {
  const rows = await tx.query<{ violation: string }>(`${sql} LIMIT ${limits.ledgerViolationsShownMax}`);
  return { name, ok: rows.length === 0, violations: rows.map((row) => row.violation) };
}

const replayedCounters = `
  WITH open_pending AS (
    SELECT p.id FROM transfers p
    WHERE p.kind = 'pending' AND NOT EXISTS (SELECT 1 FROM transfers r WHERE r.pending_id = p.id)
  ), movements AS (
    SELECT debit_account_id AS account_id,
      CASE WHEN kind IN ('single', 'post') THEN amount ELSE 0 END AS debits_posted,
      CASE WHEN kind = 'pending' AND id IN (SELECT id FROM open_pending) THEN amount ELSE 0 END AS debits_pending,
      0::bigint AS credits_posted, 0::bigint AS credits_pending
    FROM transfers
    UNION ALL
    SELECT credit_account_id, 0, 0,
      CASE WHEN kind IN ('single', 'post') THEN amount ELSE 0 END,
      CASE WHEN kind = 'pending' AND id IN (SELECT id FROM open_pending) THEN amount ELSE 0 END
    FROM transfers
  ), replay AS (
    SELECT account_id, sum(debits_posted) AS dpo, sum(debits_pending) AS dp,
      sum(credits_posted) AS cpo, sum(credits_pending) AS cp
    FROM movements GROUP BY account_id
  )
  SELECT 'account ' || a.id || ' counters differ from its transfers' AS violation
  FROM accounts a LEFT JOIN replay r ON r.account_id = a.id
  WHERE a.debits_posted <> coalesce(r.dpo, 0) OR a.debits_pending <> coalesce(r.dp, 0)
     OR a.credits_posted <> coalesce(r.cpo, 0) OR a.credits_pending <> coalesce(r.cp, 0)`;

/**
 * Every invariant of the ledger, by name, as a query that returns one row per violation. They run in this
 * order, and the report lists them in it.
 */
const ledgerChecks: readonly { readonly name: string; readonly sql: string }[] = [
  {
    name: 'debits equal credits per currency (posted)',
    sql: `SELECT currency || ': debits ' || sum(debits_posted) || ' <> credits ' || sum(credits_posted) AS violation
       FROM accounts GROUP BY currency HAVING sum(debits_posted) <> sum(credits_posted)`,
  },
  {
    name: 'debits equal credits per currency (pending)',
    sql: `SELECT currency || ': debits ' || sum(debits_pending) || ' <> credits ' || sum(credits_pending) AS violation
       FROM accounts GROUP BY currency HAVING sum(debits_pending) <> sum(credits_pending)`,
  },
  { name: 'account counters equal a replay of their transfers', sql: replayedCounters },
  {
    name: 'no account breaks its balance constraint',
    sql: `SELECT 'account ' || id || ' breaks its balance constraint' AS violation FROM accounts
       WHERE (debits_must_not_exceed_credits AND debits_pending + debits_posted > credits_posted)
          OR (credits_must_not_exceed_debits AND credits_pending + credits_posted > debits_posted)
          OR debits_pending < 0 OR debits_posted < 0 OR credits_pending < 0 OR credits_posted < 0`,
  },
  {
    name: 'each pending transfer resolved at most once',
    sql: `SELECT 'pending transfer ' || pending_id || ' resolved ' || count(*) || ' times' AS violation
       FROM transfers WHERE pending_id IS NOT NULL GROUP BY pending_id HAVING count(*) > 1`,
  },
  {
    name: 'resolutions match their pending transfer',
    sql: `SELECT 'transfer ' || r.id || ' does not match pending transfer ' || p.id AS violation
       FROM transfers r JOIN transfers p ON p.id = r.pending_id
       WHERE p.kind <> 'pending' OR r.debit_account_id <> p.debit_account_id
          OR r.credit_account_id <> p.credit_account_id OR r.currency <> p.currency
          OR (r.kind = 'post' AND r.amount > p.amount) OR (r.kind IN ('void', 'expire') AND r.amount <> p.amount)`,
  },
  {
    name: 'pending state agrees with history',
    sql: `SELECT 'pending transfer ' || s.id || ' is ' || s.status || ' but its history says otherwise' AS violation
       FROM pending_transfers s LEFT JOIN transfers r ON r.pending_id = s.id
       WHERE (s.status = 'pending') <> (r.id IS NULL)
          OR (r.id IS NOT NULL AND s.status <> CASE r.kind WHEN 'post' THEN 'posted'
                WHEN 'void' THEN 'voided' ELSE 'expired' END)`,
  },
  // The schema checks none of these references row by row (migration 0015): the ledger proves them
  // under its locks before it writes, and this check proves they held.
  {
    name: 'every reference of the ledger names a row that exists',
    sql: `SELECT 'transfer ' || t.id || ' names an account or a hold that does not exist' AS violation
       FROM transfers t
       WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.debit_account_id)
          OR NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = t.credit_account_id)
          OR (t.pending_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM pending_transfers p WHERE p.id = t.pending_id))
          OR (t.kind = 'pending' AND NOT EXISTS (SELECT 1 FROM pending_transfers p WHERE p.id = t.id))
       UNION ALL
       SELECT 'pending row ' || p.id || ' has no pending transfer, or a resolution that does not exist'
       FROM pending_transfers p
       WHERE NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = p.id AND t.kind = 'pending')
          OR (p.resolved_by IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM transfers r WHERE r.id = p.resolved_by AND r.pending_id = p.id))`,
  },
  {
    name: 'transfers share the currency of their accounts',
    sql: `SELECT 'transfer ' || t.id || ' crosses currencies' AS violation
       FROM transfers t JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id
       WHERE t.currency <> d.currency OR t.currency <> c.currency`,
  },
];

/** The sums of the counters per currency, as text so that no bigint loses digits on the way. */
async function currencyTotals(tx: SqlExecutor): Promise<LedgerVerification['totals']> {
  const totals = await tx.query<{
    currency: string;
    debits_posted: string;
    credits_posted: string;
    debits_pending: string;
    credits_pending: string;
  }>(
    `SELECT currency, sum(debits_posted)::text AS debits_posted, sum(credits_posted)::text AS credits_posted,
       sum(debits_pending)::text AS debits_pending, sum(credits_pending)::text AS credits_pending
     FROM accounts GROUP BY currency ORDER BY currency`,
  );
  return totals.map((t) => ({
    currency: t.currency,
    debitsPosted: t.debits_posted,
    creditsPosted: t.credits_posted,
    debitsPending: t.debits_pending,
    creditsPending: t.credits_pending,
  }));
}

/** Checks every ledger invariant; never throws for a violation, reports it by name. */
export async function verifyLedgerIn(tx: SqlExecutor): Promise<LedgerVerification> {
  const checks: LedgerCheck[] = [];
  // One after another: they share the caller's transaction, which runs one statement at a time.
  for (const { name, sql } of ledgerChecks) checks.push(await check(tx, name, sql));
  return { ok: checks.every((c) => c.ok), checks, totals: await currencyTotals(tx) };
}
