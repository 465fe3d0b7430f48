/**
 * Bulk seeding of a bench database with SQL, through the platform's own modules for what must match
 * what the server expects: `createSecrets` (the same master key as the server) seals verification codes
 * and terminal keys and hashes session tokens; account ids come from `services/accounts`; migrations from
 * `store/migrate`. Creating payers through the API costs one Argon2id hash each (about 90 ms), so all
 * bench payers share ONE precomputed Argon2id hash of one password: the payment path never checks a
 * password (it authenticates by session), so the shared hash changes nothing that is measured.
 *
 * The ledger stays consistent: every wallet's counters equal its deposit, the funding account's equal
 * their sum, so `ledger verify` passes after a run. The optional history (growth run) adds settled
 * payments — hold, post, payment row, second code, audit entries — as production would have left them.
 */
import { createHash } from 'node:crypto';
import {
  type AuditChainPoint,
  extendChain,
  genesisPoint,
  type PreparedAuditEvent,
  prepareAuditEvent,
} from '../../src/domain/audit.js';
import { terminalKeyLabel, verificationCodeLabel } from '../../src/domain/sealed-labels.js';
import { sha256Hex } from '../../src/services/audit/audit-service.js';
import type { Database } from '../../src/services/database.js';
import { createSecrets, type Secrets } from '../../src/services/keys/secrets.js';
import { fundingAccount, payeeAccount, payerWallet } from '../../src/services/ledger/accounts.js';
import { hashPassword } from '../../src/services/parties/passwords.js';
import { migrate } from '../../src/store/migrate.js';
import {
  benchCurrency,
  benchPassword,
  benchSuite,
  benchVerificationCode,
  payeeId,
  payerId,
  sessionToken,
  terminalId,
  terminalKey,
} from './identities.js';

/** What to seed. */
export interface SeedPlan {
  readonly payers: number;
  readonly payees: number;
  /** Settled payments already in the ledger (0 for none). */
  readonly historyPayments: number;
  readonly masterKeyHex: string;
  readonly benchSecret: string;
}

/** How long each part of the seeding took, in seconds. */
export interface SeedTimings {
  readonly payersSeconds: number;
  readonly historySeconds: number;
  readonly analyzeSeconds: number;
  readonly sessionsSeconds: number;
}

/** Each payer's deposit: far above what any run can spend, so no payment is refused for funds. */
export const depositPerPayer = 10n ** 12n;
const rowsPerStatement = 5000;
const historyPaymentsPerStatement = 50_000;
const auditEntriesPerStatement = 10_000;

function seconds(startedMs: number): number {
  return Math.round((performance.now() - startedMs) / 10) / 100;
}

/** Migrates and seeds; returns the timings. Sessions are inserted last so none idles out before the run. */
export async function seedDatabase(
  database: Database,
  plan: SeedPlan,
  progress: (line: string) => void,
): Promise<SeedTimings> {
  await migrate(database);
  const secrets = createSecrets(plan.masterKeyHex);
  let started = performance.now();
  const passwordHash = await hashPassword(benchPassword);
  await insertPayees(database, plan.payees);
  await insertFunding(database, plan.payers);
  for (let first = 0; first < plan.payers; first += rowsPerStatement) {
    const count = Math.min(rowsPerStatement, plan.payers - first);
    await insertPayers(database, secrets, plan.benchSecret, passwordHash, first, count);
    if ((first / rowsPerStatement) % 40 === 39) progress(`  seeded ${first + count} payers`);
  }
  const payersSeconds = seconds(started);
  started = performance.now();
  if (plan.historyPayments > 0) await insertHistory(database, plan, progress);
  const historySeconds = seconds(started);
  started = performance.now();
  // A production database has planner statistics and a visibility map; a fresh bulk load has neither.
  await database.query(database.engine === 'postgres' ? 'VACUUM ANALYZE' : 'ANALYZE');
  const analyzeSeconds = seconds(started);
  started = performance.now();
  for (let first = 0; first < plan.payers; first += rowsPerStatement) {
    await insertSessions(
      database,
      secrets,
      plan.benchSecret,
      first,
      Math.min(rowsPerStatement, plan.payers - first),
    );
  }
  return { payersSeconds, historySeconds, analyzeSeconds, sessionsSeconds: seconds(started) };
}

async function insertPayees(database: Database, count: number): Promise<void> {
  const ids = Array.from({ length: count }, (_, index) => payeeId(index));
  const nowMs = String(Date.now());
  await database.query(
    `INSERT INTO payees (id, name, kind, created_at_ms)
     SELECT id, 'Bench Shop ' || id, 'payee', $2 FROM unnest($1::text[]) AS id`,
    [ids, nowMs],
  );
  const accounts = ids.map((id) => payeeAccount(id, benchCurrency));
  await database.query(
    `INSERT INTO accounts (id, currency, kind, owner_id, debits_must_not_exceed_credits, created_at_ms)
     SELECT a.id, $3, 'payee', a.owner, true, $4 FROM unnest($1::uuid[], $2::text[]) AS a(id, owner)`,
    [accounts.map((a) => a.id), ids, benchCurrency, nowMs],
  );
}

async function insertPayers(
  database: Database,
  secrets: Secrets,
  benchSecret: string,
  passwordHash: string,
  first: number,
  count: number,
): Promise<void> {
  const ids = Array.from({ length: count }, (_, offset) => payerId(first + offset));
  const terminals = ids.map(terminalId);
  const nowMs = String(Date.now());
  await database.query(
    `INSERT INTO payers (id, password_hash, verification_code_sealed, created_at_ms)
     SELECT id, $3, sealed, $4 FROM unnest($1::text[], $2::text[]) AS p(id, sealed)`,
    [
      ids,
      ids.map((id) => secrets.box.seal(benchVerificationCode, verificationCodeLabel(id))),
      passwordHash,
      nowMs,
    ],
  );
  await database.query(
    `INSERT INTO terminals (id, payer_id, suite, key_sealed, status, label, created_at_ms)
     SELECT t.id, t.payer, $4, t.sealed, 'active', 'first terminal', $5
     FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, payer, sealed)`,
    [
      terminals,
      ids,
      ids.map((id, index) =>
        secrets.box.seal(Buffer.from(terminalKey(benchSecret, id)), terminalKeyLabel(terminals[index]!)),
      ),
      benchSuite,
      nowMs,
    ],
  );
  const wallets = ids.map((id) => payerWallet(id, benchCurrency).id);
  await database.query(
    `INSERT INTO accounts (id, currency, kind, owner_id, debits_must_not_exceed_credits, credits_posted,
       created_at_ms)
     SELECT a.id, $3, 'payer', a.owner, true, $4, $5 FROM unnest($1::uuid[], $2::text[]) AS a(id, owner)`,
    [wallets, ids, benchCurrency, depositPerPayer.toString(), nowMs],
  );
  const funding = fundingAccount(benchCurrency).id;
  await database.query(
    `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, reference,
       created_at_ms)
     SELECT md5('bench-deposit:' || d.owner)::uuid, $3, d.wallet, $4, $5, 'single', 'deposit:' || d.owner, $6
     FROM unnest($1::uuid[], $2::text[]) AS d(wallet, owner)`,
    [wallets, ids, funding, depositPerPayer.toString(), benchCurrency, nowMs],
  );
}

/** The funding account, inserted first (deposits reference it) with its final counters. */
async function insertFunding(database: Database, payers: number): Promise<void> {
  const funding = fundingAccount(benchCurrency);
  await database.query(
    `INSERT INTO accounts (id, currency, kind, owner_id, debits_must_not_exceed_credits, debits_posted,
       created_at_ms)
     VALUES ($1, $2, 'funding', $3, false, $4, $5)`,
    [funding.id, benchCurrency, funding.ownerId, (depositPerPayer * BigInt(payers)).toString(), Date.now()],
  );
}

async function insertSessions(
  database: Database,
  secrets: Secrets,
  benchSecret: string,
  first: number,
  count: number,
): Promise<void> {
  const ids = Array.from({ length: count }, (_, offset) => payerId(first + offset));
  await database.query(
    `INSERT INTO sessions (token_hash, payer_id, created_at_ms, last_used_at_ms)
     SELECT s.hash, s.payer, $3, $3 FROM unnest($1::text[], $2::text[]) AS s(hash, payer)`,
    [ids.map((id) => secrets.keyedHash('session_token', sessionToken(benchSecret, id))), ids, Date.now()],
  );
}

/**
 * Settled payments, as the payment path leaves them: a hold and its post, the pending row marked posted,
 * the payment `succeeded`, one second-code hash, and the counters moved. Generated in SQL, in chunks.
 */
async function insertHistory(database: Database, plan: SeedPlan, progress: (line: string) => void) {
  const createdAtMs = Date.now() - 86_400_000;
  await database.query(
    `CREATE TEMPORARY TABLE bench_wallets AS
       SELECT owner_id AS payer, id, row_number() OVER (ORDER BY id) - 1 AS k FROM accounts WHERE kind = 'payer'`,
  );
  await database.query(
    `CREATE TEMPORARY TABLE bench_payees AS
       SELECT owner_id AS payee, id, row_number() OVER (ORDER BY id) - 1 AS k FROM accounts WHERE kind = 'payee'`,
  );
  await database.query('CREATE INDEX ON bench_wallets (k)');
  for (let first = 0; first < plan.historyPayments; first += historyPaymentsPerStatement) {
    const last = Math.min(plan.historyPayments, first + historyPaymentsPerStatement) - 1;
    await database.transaction(async (tx) => {
      await tx.query(
        `CREATE TEMPORARY TABLE bench_history ON COMMIT DROP AS
           SELECT n, w.payer, w.id AS wallet, p.payee, p.id AS payee_account, 1 + n % 997 AS amount,
             md5('bench-payment:' || n)::uuid AS payment, md5('bench-hold:' || n)::uuid AS hold,
             md5('bench-post:' || n)::uuid AS post
           FROM generate_series($1::bigint, $2::bigint) AS n
           JOIN bench_wallets w ON w.k = n % $3 JOIN bench_payees p ON p.k = n % $4`,
        [first, last, plan.payers, plan.payees],
      );
      await insertHistoryRows(tx, createdAtMs);
    });
    progress(`  history: ${last + 1} settled payments`);
  }
  await insertHistoryAudit(database, plan.historyPayments, createdAtMs, progress);
}

async function insertHistoryRows(tx: Pick<Database, 'query'>, createdAtMs: number): Promise<void> {
  const expiresAtMs = createdAtMs + 300_000;
  await tx.query(
    `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, pending_id,
       timeout_at_ms, reference, created_at_ms)
     SELECT hold, wallet, payee_account, amount, $1::text, 'pending', NULL::uuid, $3::bigint,
       'payment:' || payment, $2::bigint
     FROM bench_history
     UNION ALL
     SELECT post, wallet, payee_account, amount, $1::text, 'post', hold, NULL::bigint, NULL::text,
       $2::bigint + 1000
     FROM bench_history`,
    [benchCurrency, createdAtMs, expiresAtMs],
  );
  await tx.query(
    `INSERT INTO pending_transfers (id, status, timeout_at_ms, resolved_by)
     SELECT hold, 'posted', $1::bigint, post FROM bench_history`,
    [expiresAtMs],
  );
  await tx.query(
    `INSERT INTO payments (id, payer_id, payee_id, amount, currency, status, deliver_to, first_code_hash,
       hold_transfer_id, failed_approvals, created_at_ms, expires_at_ms, updated_at_ms)
     SELECT payment, payer, payee, amount, $1::text, 'succeeded', 'first_terminal',
       md5('bench-first:' || n) || md5('bench-first2:' || n), hold, 0, $2::bigint, $3::bigint, $2::bigint + 1000
     FROM bench_history`,
    [benchCurrency, createdAtMs, expiresAtMs],
  );
  await tx.query(
    `INSERT INTO payment_second_codes (payment_id, terminal_id, second_code_hash)
     SELECT h.payment, t.id, md5('bench-second:' || h.n) || md5('bench-second2:' || h.n)
     FROM bench_history h JOIN terminals t ON t.payer_id = h.payer AND t.status = 'active'`,
  );
  await tx.query(
    `UPDATE accounts a SET debits_posted = a.debits_posted + s.total
     FROM (SELECT wallet, sum(amount) AS total FROM bench_history GROUP BY wallet) s WHERE a.id = s.wallet`,
  );
  await tx.query(
    `UPDATE accounts a SET credits_posted = a.credits_posted + s.total
     FROM (SELECT payee_account, sum(amount) AS total FROM bench_history GROUP BY payee_account) s
     WHERE a.id = s.payee_account`,
  );
}

function historyEvents(n: number, payer: string): PreparedAuditEvent[] {
  const payment = md5Uuid(`bench-payment:${n}`);
  const events = [
    { event: 'code_issued', subject: payer, detail: { paymentId: payment, deliverTo: 'first_terminal' } },
    {
      event: 'payment_status_changed',
      subject: payment,
      detail: { status: 'requires_approval', payerId: payer },
    },
    { event: 'approval_succeeded', subject: payer, detail: { paymentId: payment } },
    { event: 'payment_status_changed', subject: payment, detail: { status: 'succeeded', payerId: payer } },
  ] as const;
  return events.map((input, index) => prepareAuditEvent(md5Uuid(`bench-audit:${n}:${index}`), input));
}

/** PostgreSQL's `md5(text)::uuid`, in JavaScript, so that audit details name the seeded payments. */
function md5Uuid(text: string): string {
  const hex = createHash('md5').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The history's audit entries, chained exactly as `AuditService.appendIn` chains them. */
async function insertHistoryAudit(
  database: Database,
  historyPayments: number,
  createdAtMs: number,
  progress: (line: string) => void,
): Promise<void> {
  const payers = await database.query<{ payer: string; k: bigint }>('SELECT payer, k FROM bench_wallets');
  const payerByIndex = new Map(payers.map((row) => [Number(row.k), row.payer]));
  let head: AuditChainPoint = genesisPoint;
  const paymentsPerStatement = auditEntriesPerStatement / 4;
  for (let first = 0; first < historyPayments; first += paymentsPerStatement) {
    const events: PreparedAuditEvent[] = [];
    for (let n = first; n < Math.min(historyPayments, first + paymentsPerStatement); n++) {
      events.push(...historyEvents(n, payerByIndex.get(n % payerByIndex.size)!));
    }
    const entries = extendChain(sha256Hex, head, events, createdAtMs);
    await database.query(
      `INSERT INTO audit_log (position, id, event, subject, detail, created_at_ms, previous_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::bigint[],
         $7::text[], $8::text[])`,
      [
        entries.map((e) => String(e.position)),
        entries.map((e) => e.id),
        entries.map((e) => e.event),
        entries.map((e) => e.subject),
        entries.map((e) => e.detailJson),
        entries.map((e) => String(e.createdAtMs)),
        entries.map((e) => e.previousHash),
        entries.map((e) => e.hash),
      ],
    );
    const last = entries[entries.length - 1]!;
    head = { position: last.position, hash: last.hash };
    if ((first / paymentsPerStatement) % 100 === 99) progress(`  audit history: ${last.position} entries`);
  }
  await database.query('UPDATE audit_head SET position = $1, hash = $2 WHERE singleton', [
    String(head.position),
    head.hash,
  ]);
}
