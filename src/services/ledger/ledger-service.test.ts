// Proves the ledger's rules on both engines: holds, posts, voids, expiries, every refusal, idempotency and contention.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../../test/support/engines.js';
import { ManualClock } from '../../domain/clock.js';
import type { TransferErrorCode, TransferRequest } from '../../domain/ledger.js';
import { sqlLedgerStore } from '../../store/ledger-repository.js';
import { migrate } from '../../store/migrate.js';
import { openPglite } from '../../store/pglite-database.js';
import type { Database } from '../database.js';
import { newId } from '../ids.js';
import { createSecrets } from '../keys/secrets.js';
import { LedgerService } from './ledger-service.js';

// The ledger derives expiry transfer ids under a platform key; any key will do here.
const keyedHash = createSecrets(randomBytes(32).toString('hex')).keyedHash;

async function ledgerState(database: Database) {
  const accounts = await database.query('SELECT * FROM accounts ORDER BY id');
  const transfers = await database.query('SELECT * FROM transfers ORDER BY id');
  const pending = await database.query('SELECT * FROM pending_transfers ORDER BY id');
  return { accounts, transfers, pending };
}

describe.each(testEngines())('ledger on %s', (engine) => {
  let test: TestDatabase;
  let clock: ManualClock;
  let ledger: LedgerService;
  let funding: string;
  let payer: string;
  let payee: string;
  let yen: string;

  beforeAll(async () => {
    test = await openTestDatabase(engine);
  });
  afterAll(async () => {
    await test.dispose();
  });

  beforeEach(async () => {
    clock = new ManualClock();
    ledger = new LedgerService(test.database, clock, sqlLedgerStore, keyedHash);
    [funding, payer, payee, yen] = [newId(), newId(), newId(), newId()];
    await ledger.createAccounts([
      { id: funding, currency: 'EUR', kind: 'funding', debitsMustNotExceedCredits: false },
      { id: payer, currency: 'EUR', kind: 'payer', debitsMustNotExceedCredits: true },
      { id: payee, currency: 'EUR', kind: 'payee', debitsMustNotExceedCredits: false },
      { id: yen, currency: 'JPY', kind: 'payee', debitsMustNotExceedCredits: false },
    ]);
    const [deposit] = await ledger.createTransfers([
      { id: newId(), kind: 'single', debitAccountId: funding, creditAccountId: payer, amount: 1000n },
    ]);
    expect(deposit?.status).toBe('created');
  });

  async function account(id: string) {
    const [found] = await ledger.lookupAccounts([id]);
    if (found === undefined) throw new Error(`no account ${id}`);
    return found;
  }

  async function hold(amount: bigint, timeoutMs = 60_000): Promise<string> {
    const id = newId();
    const [result] = await ledger.createTransfers([
      {
        id,
        kind: 'pending',
        debitAccountId: payer,
        creditAccountId: payee,
        amount,
        timeoutAtMs: clock.nowMs() + timeoutMs,
      },
    ]);
    expect(result?.status).toBe('created');
    return id;
  }

  it('moves a single transfer at once', async () => {
    const [result] = await ledger.createTransfers([
      { id: newId(), kind: 'single', debitAccountId: payer, creditAccountId: payee, amount: 250n },
    ]);
    expect(result?.status).toBe('created');
    expect((await account(payer)).debitsPosted).toBe(250n);
    expect((await account(payee)).creditsPosted).toBe(250n);
  });

  it('holds, then posts the full amount', async () => {
    const pendingId = await hold(300n);
    expect(await account(payer)).toMatchObject({ debitsPending: 300n, debitsPosted: 0n });
    const [post] = await ledger.createTransfers([{ id: newId(), kind: 'post', pendingId }]);
    expect(post).toMatchObject({ status: 'created', transfer: { amount: 300n, kind: 'post' } });
    expect(await account(payer)).toMatchObject({ debitsPending: 0n, debitsPosted: 300n });
    expect(await account(payee)).toMatchObject({ creditsPending: 0n, creditsPosted: 300n });
  });

  it('posts less than the hold and releases the rest', async () => {
    const pendingId = await hold(300n);
    await ledger.createTransfers([{ id: newId(), kind: 'post', pendingId, amount: 120n }]);
    expect(await account(payer)).toMatchObject({ debitsPending: 0n, debitsPosted: 120n });
    expect(await account(payee)).toMatchObject({ creditsPending: 0n, creditsPosted: 120n });
  });

  it('voids a hold', async () => {
    const pendingId = await hold(300n);
    const [result] = await ledger.createTransfers([{ id: newId(), kind: 'void', pendingId }]);
    expect(result?.status).toBe('created');
    expect(await account(payer)).toMatchObject({ debitsPending: 0n, debitsPosted: 0n });
  });

  it('expires a hold past its timeout, and refuses to post it afterwards', async () => {
    const pendingId = await hold(300n, 1000);
    clock.advance(999);
    const [early] = await ledger.createTransfers([{ id: newId(), kind: 'expire', pendingId }]);
    expect(early).toMatchObject({ status: 'failed', error: 'pending_transfer_not_expired' });
    clock.advance(1);
    const [latePost] = await ledger.createTransfers([{ id: newId(), kind: 'post', pendingId }]);
    expect(latePost).toMatchObject({ status: 'failed', error: 'pending_transfer_expired' });
    expect(await ledger.expireDue()).toBe(1);
    expect(await ledger.expireDue()).toBe(0);
    expect(await account(payer)).toMatchObject({ debitsPending: 0n, debitsPosted: 0n });
    const [afterExpiry] = await ledger.createTransfers([{ id: newId(), kind: 'post', pendingId }]);
    expect(afterExpiry).toMatchObject({ status: 'failed', error: 'pending_transfer_expired' });
  });

  async function expectRefused(request: TransferRequest, error: TransferErrorCode): Promise<void> {
    const before = await ledgerState(test.database);
    const [result] = await ledger.createTransfers([request]);
    expect(result).toEqual({ id: request.id, status: 'failed', error });
    expect(await ledgerState(test.database)).toEqual(before);
  }

  it('refuses every malformed or unlawful transfer and writes nothing', async () => {
    const single = (amount: bigint, debitAccountId = payer, creditAccountId = payee): TransferRequest => ({
      id: newId(),
      kind: 'single',
      debitAccountId,
      creditAccountId,
      amount,
    });
    await expectRefused(single(0n), 'amount_must_be_positive');
    await expectRefused(single(-5n), 'amount_must_be_positive');
    await expectRefused(single(2n ** 63n), 'amount_too_large');
    await expectRefused(single(1001n), 'exceeds_credits');
    await expectRefused(single(1n, payer, payer), 'accounts_must_be_different');
    await expectRefused(single(1n, payer, yen), 'currency_mismatch');
    await expectRefused(single(1n, newId(), payee), 'debit_account_not_found');
    await expectRefused(single(1n, payer, newId()), 'credit_account_not_found');
    await expectRefused({ ...single(1n), id: 'not-a-uuid' }, 'id_invalid');
    await expectRefused({ id: newId(), kind: 'post', pendingId: newId() }, 'pending_transfer_not_found');
    await expectRefused({ ...single(1n), kind: 'pending' }, 'timeout_required');
  });

  it('refuses to post more than held, and to resolve a hold twice', async () => {
    const pendingId = await hold(300n);
    await expectRefused(
      { id: newId(), kind: 'post', pendingId, amount: 301n },
      'exceeds_pending_transfer_amount',
    );
    await ledger.createTransfers([{ id: newId(), kind: 'post', pendingId }]);
    await expectRefused({ id: newId(), kind: 'post', pendingId }, 'pending_transfer_already_posted');
    await expectRefused({ id: newId(), kind: 'void', pendingId }, 'pending_transfer_already_posted');
    const voided = await hold(100n);
    await ledger.createTransfers([{ id: newId(), kind: 'void', pendingId: voided }]);
    await expectRefused({ id: newId(), kind: 'post', pendingId: voided }, 'pending_transfer_already_voided');
  });

  it('counts held amounts against the balance', async () => {
    await hold(800n);
    await expectRefused(
      { id: newId(), kind: 'single', debitAccountId: payer, creditAccountId: payee, amount: 201n },
      'exceeds_credits',
    );
  });

  it('answers a resubmitted batch with the first results and writes nothing more', async () => {
    const pendingId = newId();
    const batch: TransferRequest[] = [
      {
        id: pendingId,
        kind: 'pending',
        debitAccountId: payer,
        creditAccountId: payee,
        amount: 50n,
        timeoutAtMs: clock.nowMs() + 5000,
      },
      { id: newId(), kind: 'post', pendingId, amount: 40n },
      { id: newId(), kind: 'single', debitAccountId: payer, creditAccountId: payee, amount: 7n },
    ];
    const first = await ledger.createTransfers(batch);
    expect(first.map((r) => r.status)).toEqual(['created', 'created', 'created']);
    const before = await ledgerState(test.database);
    const second = await ledger.createTransfers(batch);
    expect(second.map((r) => r.status)).toEqual(['exists', 'exists', 'exists']);
    expect(await ledgerState(test.database)).toEqual(before);
    const [changed] = await ledger.createTransfers([{ ...batch[2]!, amount: 8n } as TransferRequest]);
    expect(changed).toMatchObject({ status: 'failed', error: 'exists_with_different_fields' });
    expect(await ledgerState(test.database)).toEqual(before);
  });

  it('answers concurrent submissions of one new transfer with one created and the rest exists', async () => {
    const request: TransferRequest = {
      id: newId(),
      kind: 'single',
      debitAccountId: payer,
      creditAccountId: payee,
      amount: 3n,
    };
    const results = await Promise.all(Array.from({ length: 4 }, () => ledger.createTransfers([request])));
    expect(results.map(([result]) => result?.status).sort()).toEqual([
      'created',
      'exists',
      'exists',
      'exists',
    ]);
    expect((await account(payer)).debitsPosted).toBe(3n);
  });

  it('lets one failing transfer leave its neighbours alone', async () => {
    const results = await ledger.createTransfers([
      { id: newId(), kind: 'single', debitAccountId: payer, creditAccountId: payee, amount: 10n },
      { id: newId(), kind: 'single', debitAccountId: payer, creditAccountId: payee, amount: 5000n },
      { id: newId(), kind: 'single', debitAccountId: payer, creditAccountId: payee, amount: 20n },
    ]);
    expect(results.map((r) => r.status)).toEqual(['created', 'failed', 'created']);
    expect((await account(payer)).debitsPosted).toBe(30n);
  });

  it('never overdraws under 16 concurrent workers and verifies afterwards', async () => {
    const ids = Array.from({ length: 10 }, () => newId());
    await ledger.createAccounts(
      ids.map((id) => ({ id, currency: 'EUR', kind: 'payer' as const, debitsMustNotExceedCredits: true })),
    );
    await ledger.createTransfers(
      ids.map((id) => ({
        id: newId(),
        kind: 'single' as const,
        debitAccountId: funding,
        creditAccountId: id,
        amount: 100n,
      })),
    );
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const open: string[] = [];
    const worker = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const choice = random(3);
        const pendingId = open.pop();
        if (choice > 0 && pendingId !== undefined) {
          await ledger.createTransfers([{ id: newId(), kind: choice === 1 ? 'post' : 'void', pendingId }]);
          continue;
        }
        const from = ids[random(10)]!;
        let to = ids[random(10)]!;
        if (to === from) to = payee;
        const id = newId();
        const [result] = await ledger.createTransfers([
          {
            id,
            kind: 'pending',
            debitAccountId: from,
            creditAccountId: to,
            amount: BigInt(1 + random(40)),
            timeoutAtMs: clock.nowMs() + 60_000,
          },
        ]);
        if (result?.status === 'created') open.push(id);
      }
    };
    await Promise.all(Array.from({ length: 16 }, () => worker(125)));
    const accounts = await ledger.lookupAccounts(ids);
    for (const a of accounts) expect(a.debitsPending + a.debitsPosted).toBeLessThanOrEqual(a.creditsPosted);
    const verification = await ledger.verify();
    expect(verification.checks.filter((c) => !c.ok)).toEqual([]);
    expect(verification.ok).toBe(true);
  });

  it('reports a tampered counter by name', async () => {
    const pendingId = await hold(10n);
    expect((await ledger.verify()).ok).toBe(true);
    await test.database.query('UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = $1', [
      payee,
    ]);
    const verification = await ledger.verify();
    expect(verification.ok).toBe(false);
    const failed = verification.checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failed).toContain('account counters equal a replay of their transfers');
    expect(failed).toContain('debits equal credits per currency (posted)');
    await test.database.query('UPDATE accounts SET credits_posted = credits_posted - 1 WHERE id = $1', [
      payee,
    ]);
    await ledger.createTransfers([{ id: newId(), kind: 'void', pendingId }]);
  });

  it('refuses to rewrite history', async () => {
    await expect(test.database.query('DELETE FROM transfers')).rejects.toThrow(/append-only/);
    await expect(test.database.query('UPDATE transfers SET amount = 1')).rejects.toThrow(/append-only/);
  });

  it('refuses to delete an account, which its transfers name', async () => {
    const before = await ledgerState(test.database);
    await expect(test.database.query('DELETE FROM accounts WHERE id = $1', [payee])).rejects.toThrow(
      /never deleted/,
    );
    await expect(test.database.query('TRUNCATE accounts CASCADE')).rejects.toThrow(/never deleted/);
    expect(await ledgerState(test.database)).toEqual(before);
  });

  it('verify names a transfer whose account or hold does not exist', async () => {
    // The schema no longer checks these references row by row; the ledger proves them before it writes,
    // and verify proves they held. A row written behind the ledger's back must therefore be caught.
    expect((await ledger.verify()).ok).toBe(true);
    const rolledBack = new Error('roll back');
    const outcome = test.database.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, currency, pending_id,
           timeout_at_ms, reference, created_at_ms)
         VALUES ($1, 'post', $2, $3, 1, 'EUR', $4, NULL, NULL, 0)`,
        [newId(), newId(), payee, newId()],
      );
      const verification = await sqlLedgerStore.verifyLedgerIn(tx);
      expect(verification.ok).toBe(false);
      const failed = verification.checks.find(
        (c) => c.name === 'every reference of the ledger names a row that exists',
      );
      expect(failed?.ok).toBe(false);
      expect(failed?.violations[0]).toMatch(/names an account or a hold that does not exist/);
      throw rolledBack;
    });
    await expect(outcome).rejects.toBe(rolledBack);
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe('ledger on PGlite with a data directory', () => {
  it('keeps what was written after close and reopen', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-restart-'));
    try {
      const clock = new ManualClock();
      const first = await openPglite({ dataDir: directory });
      await migrate(first);
      const ledger = new LedgerService(first, clock, sqlLedgerStore, keyedHash);
      const [a, b] = [newId(), newId()];
      await ledger.createAccounts([
        { id: a, currency: 'EUR', kind: 'funding', debitsMustNotExceedCredits: false },
        { id: b, currency: 'EUR', kind: 'payer', debitsMustNotExceedCredits: true },
      ]);
      await ledger.createTransfers([
        { id: newId(), kind: 'single', debitAccountId: a, creditAccountId: b, amount: 77n },
      ]);
      await first.close();
      const second = await openPglite({ dataDir: directory });
      const reopened = new LedgerService(second, clock, sqlLedgerStore, keyedHash);
      const [account] = await reopened.lookupAccounts([b]);
      expect(account?.creditsPosted).toBe(77n);
      expect((await reopened.verify()).ok).toBe(true);
      await second.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
