// Proves on both engines that group-committed payments share transactions, decide every operation of a batch in arrival order through the one executor, write exactly what a batch of one writes, and never let a refused or unusual payment fail its neighbours.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Payment } from '../../src/domain/payment.js';
import type { CreatedPayment } from '../../src/services/payments/payment-service.js';
import { call, createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

type Settled<T> = PromiseSettledResult<T>;

function errorCode(result: Settled<unknown>): string | undefined {
  return result.status === 'rejected' ? (result.reason as { code?: string }).code : undefined;
}

function value<T>(result: Settled<T>): T {
  if (result.status !== 'fulfilled') throw new Error(`expected success, got ${String(result.reason)}`);
  return result.value;
}

describe.each(testEngines())('group commit of payments on %s', (engine) => {
  let platform: TestPlatform;
  let alice: TestPayer;
  let bob: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 60 });
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    bob = await createFundedPayer(platform.app, platform.operatorToken, 'bob', 1_000);
    await createPayee(platform.app, platform.operatorToken, 'shop');
    await createPayee(platform.app, platform.operatorToken, 'other-shop', 'Other Shop');
    // Opens the payee accounts (a payee's first payment in a currency plans its holds twice).
    for (const payeeId of ['shop', 'other-shop']) {
      const opened = await platform.services.payments.create(creation(alice, 1, payeeId));
      await platform.services.payments.cancel(opened.payment.id, alice.id);
    }
  });
  afterAll(async () => {
    await platform.dispose();
  });

  function creation(payer: TestPayer, amount: number, payeeId = 'shop', idempotencyKey?: string) {
    return {
      payerId: payer.id,
      payeeId,
      amount: BigInt(amount),
      currency: 'EUR',
      deliverTo: 'first_terminal' as const,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
    };
  }

  const stats = () => platform.services.payments.batchStats()!;
  const available = async (payerId: string) =>
    (await platform.services.parties.payerBalance(payerId, 'EUR')).available;
  const approve = async (payer: TestPayer, created: CreatedPayment) =>
    platform.services.payments.approve(created.payment.id, {
      secondCode: await secondCodeFor(payer, created.firstCode!),
    });

  it('creates and approves concurrent payments in shared transactions, each with its own codes', async () => {
    const before = stats();
    const aliceBefore = await available(alice.id);
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        platform.services.payments.create(
          creation(alice, 100 + index, index % 2 === 0 ? 'shop' : 'other-shop'),
        ),
      ),
    );
    expect(new Set(created.map((c) => c.payment.id)).size).toBe(12);
    expect(created.every((c) => /^[0-9]{8}$/.test(c.firstCode ?? ''))).toBe(true);
    expect(stats().creations.batches - before.creations.batches).toBe(1);
    const secondCodes = await Promise.all(created.map((c) => secondCodeFor(alice, c.firstCode!)));
    const approved = await Promise.all(
      created.map((c, index) =>
        platform.services.payments.approve(c.payment.id, { secondCode: secondCodes[index]! }),
      ),
    );
    expect(approved.every((payment) => payment.status === 'succeeded')).toBe(true);
    expect(stats().approvals.batches - before.approvals.batches).toBe(1);
    const total = created.reduce((sum, c) => sum + c.payment.amount, 0n);
    expect(await available(alice.id)).toBe(aliceBefore - total);
    expect((await platform.services.ledger.verify()).ok).toBe(true);
    expect((await platform.services.audit.verify()).ok).toBe(true);
  });

  it('writes each second-terminal delivery with its payment, and resets a failure count on a batched approval', async () => {
    const before = stats();
    const pushed = await Promise.all(
      [201, 202, 203, 204].map((amount) =>
        platform.services.payments.create({
          ...creation(bob, amount),
          deliverTo: 'second_terminal' as const,
        }),
      ),
    );
    expect(stats().creations.batches - before.creations.batches).toBe(1);
    expect(stats().creations.batchesRolledBack - before.creations.batchesRolledBack).toBe(0);
    const deliveries = await platform.test.database.query<{ payment_id: string; channel: string }>(
      'SELECT payment_id, channel FROM deliveries WHERE payment_id = ANY($1::uuid[]) ORDER BY payment_id',
      [pushed.map((c) => c.payment.id)],
    );
    expect(deliveries.map((d) => d.payment_id)).toEqual(pushed.map((c) => c.payment.id).sort());
    expect(deliveries.every((d) => d.channel === 'second_terminal')).toBe(true);
    expect(pushed.every((c) => c.firstCode === undefined)).toBe(true);
    for (const c of pushed) await platform.services.payments.cancel(c.payment.id, bob.id);

    // One wrong approval counts against bob; his next right approval, batched with alice's, resets it.
    const [bobs, alices] = await Promise.all([
      platform.services.payments.create(creation(bob, 5)),
      platform.services.payments.create(creation(alice, 6)),
    ]);
    const wrongCode = (await secondCodeFor(bob, bobs!.firstCode!)) === '00000000' ? '11111111' : '00000000';
    await expect(
      platform.services.payments.approve(bobs!.payment.id, { secondCode: wrongCode }),
    ).rejects.toMatchObject({ code: 'approval_failed' });
    const failures = async () =>
      (
        await platform.test.database.query<{ consecutive_failures: number }>(
          'SELECT consecutive_failures FROM authentication_failures WHERE subject = $1',
          [bob.id],
        )
      )[0]?.consecutive_failures;
    expect(await failures()).toBe(1);
    const approvalsBefore = stats().approvals;
    const [bobsCode, alicesCode] = await Promise.all([
      secondCodeFor(bob, bobs!.firstCode!),
      secondCodeFor(alice, alices!.firstCode!),
    ]);
    const approved = await Promise.all([
      platform.services.payments.approve(bobs!.payment.id, { secondCode: bobsCode }),
      platform.services.payments.approve(alices!.payment.id, { secondCode: alicesCode }),
    ]);
    expect(approved.map((p) => p.status)).toEqual(['succeeded', 'succeeded']);
    expect(stats().approvals.batches - approvalsBefore.batches).toBe(1);
    expect(stats().approvals.batchesRolledBack - approvalsBefore.batchesRolledBack).toBe(0);
    expect(await failures()).toBe(0);
    expect((await platform.services.ledger.verify()).ok).toBe(true);
    expect((await platform.services.audit.verify()).ok).toBe(true);
  });

  it('commits creations, approvals and cancellations that arrive together in one transaction', async () => {
    const opened = await Promise.all(
      [11, 12, 13].map((n) => platform.services.payments.create(creation(alice, n))),
    );
    const codes = await Promise.all(opened.slice(0, 2).map((c) => secondCodeFor(alice, c.firstCode!)));
    const before = stats();
    const aliceBefore = await available(alice.id);
    const [approvedA, approvedB, canceled, createdA, createdB] = await Promise.all([
      platform.services.payments.approve(opened[0]!.payment.id, { secondCode: codes[0]! }),
      platform.services.payments.approve(opened[1]!.payment.id, { secondCode: codes[1]! }),
      platform.services.payments.cancel(opened[2]!.payment.id, alice.id),
      platform.services.payments.create(creation(alice, 21)),
      platform.services.payments.create(creation(alice, 22, 'other-shop')),
    ]);
    expect([approvedA!.status, approvedB!.status, canceled!.status]).toEqual([
      'succeeded',
      'succeeded',
      'canceled',
    ]);
    expect([createdA!.payment.status, createdB!.payment.status]).toEqual([
      'requires_approval',
      'requires_approval',
    ]);
    const after = stats();
    expect(after.all.batches - before.all.batches).toBe(1);
    expect(after.all.batchesRolledBack - before.all.batchesRolledBack).toBe(0);
    expect(after.creations.batches - before.creations.batches).toBe(1);
    expect(after.approvals.batches - before.approvals.batches).toBe(1);
    expect(after.cancellations.batches - before.cancellations.batches).toBe(1);
    // The canceled hold is freed and the two new ones held; the approved ones stay spent.
    expect(await available(alice.id)).toBe(aliceBefore + 13n - 21n - 22n);
    const rows = await platform.test.database.query<{ id: string; status: string }>(
      'SELECT id, status FROM payments WHERE id = ANY($1::uuid[])',
      [[opened[0]!.payment.id, opened[2]!.payment.id, createdA!.payment.id]],
    );
    expect(new Map(rows.map((row) => [row.id, row.status]))).toEqual(
      new Map([
        [opened[0]!.payment.id, 'succeeded'],
        [opened[2]!.payment.id, 'canceled'],
        [createdA!.payment.id, 'requires_approval'],
      ]),
    );
    expect((await platform.services.ledger.verify()).ok).toBe(true);
    expect((await platform.services.audit.verify()).ok).toBe(true);
  });

  it('decides a payment approved and canceled in one batch in arrival order: the later one is refused', async () => {
    const created = await platform.services.payments.create(creation(alice, 31));
    const code = await secondCodeFor(alice, created.firstCode!);
    const before = stats();
    const [approved, canceled] = await Promise.allSettled([
      platform.services.payments.approve(created.payment.id, { secondCode: code }),
      platform.services.payments.cancel(created.payment.id, alice.id),
    ]);
    expect(value(approved).status).toBe('succeeded');
    expect(errorCode(canceled)).toBe('payment_not_cancelable');
    expect(stats().all.batches - before.all.batches).toBe(1);
    expect(stats().all.batchesRolledBack - before.all.batchesRolledBack).toBe(0);
    expect((await platform.services.payments.get(created.payment.id)).status).toBe('succeeded');
    expect((await platform.services.ledger.verify()).ok).toBe(true);
  });

  it('answers each caller only after its commit: the payment is readable the moment it returns', async () => {
    const created = await Promise.all(
      [1, 2, 3].map((n) => platform.services.payments.create(creation(alice, n))),
    );
    for (const c of created) {
      expect((await platform.services.payments.get(c.payment.id)).status).toBe('requires_approval');
    }
    const approved = await Promise.all(created.map((c) => approve(alice, c)));
    for (const payment of approved) {
      expect((await platform.services.payments.get(payment.id)).status).toBe('succeeded');
    }
  });

  it('refuses a creation without funds, and one to an unknown payee, without failing their neighbours', async () => {
    const bobBefore = await available(bob.id);
    const paymentsBefore = await platform.test.database.query('SELECT id FROM payments');
    const settled = await Promise.allSettled([
      platform.services.payments.create(creation(alice, 300)),
      platform.services.payments.create(creation(bob, 5_000)),
      platform.services.payments.create(creation(alice, 301, 'no-such-shop')),
      platform.services.payments.create(creation(bob, 400)),
    ]);
    expect(settled.map(errorCode)).toEqual([undefined, 'insufficient_funds', 'payee_not_found', undefined]);
    const paymentsAfter = await platform.test.database.query<{
      id: string;
      payer_id: string;
      amount: bigint;
    }>('SELECT id, payer_id, amount FROM payments WHERE NOT (id = ANY($1::uuid[]))', [
      paymentsBefore.map((row) => row['id'] as string),
    ]);
    // Exactly the two accepted payments were written; the refused ones left nothing behind.
    expect(paymentsAfter.map((row) => row.amount).sort()).toEqual([300n, 400n]);
    expect(await available(bob.id)).toBe(bobBefore - 400n);
    const accepted = [value(settled[0]!), value(settled[3]!)];
    await approve(alice, accepted[0]!);
    await approve(bob, accepted[1]!);
  });

  it('settles wrong codes, replays and unknown payments in the batch they arrive in, beside a right code', async () => {
    const [right, wrong, second, replayed] = await Promise.all(
      [10, 11, 12, 13].map((n) => platform.services.payments.create(creation(alice, n))),
    );
    await approve(alice, replayed!);
    const wrongCode =
      (await secondCodeFor(alice, wrong!.firstCode!)) === '00000000' ? '11111111' : '00000000';
    const rightCode = await secondCodeFor(alice, right!.firstCode!);
    const replayedCode = await secondCodeFor(alice, replayed!.firstCode!);
    const before = stats();
    // Submitted in one turn of the event loop, so that all four meet in one batch.
    const settled = await Promise.allSettled([
      platform.services.payments.approve(right!.payment.id, { secondCode: rightCode }),
      platform.services.payments.approve(wrong!.payment.id, { secondCode: wrongCode }),
      platform.services.payments.approve(replayed!.payment.id, { secondCode: replayedCode }),
      platform.services.payments.approve('00000000-0000-4000-8000-000000000000', { secondCode: wrongCode }),
    ]);
    expect(settled.map(errorCode)).toEqual([
      undefined,
      'approval_failed',
      'payment_not_approvable',
      'payment_not_found',
    ]);
    expect((value(settled[0]!) as Payment).status).toBe('succeeded');
    expect(stats().approvals.batches - before.approvals.batches).toBe(1);
    expect(stats().approvals.batchesRolledBack - before.approvals.batchesRolledBack).toBe(0);
    // The wrong code counted once against its payment and once against its payer.
    const failuresOf = async (payerId: string) =>
      (
        await platform.test.database.query<{ consecutive_failures: number }>(
          'SELECT consecutive_failures FROM authentication_failures WHERE subject = $1',
          [payerId],
        )
      )[0]?.consecutive_failures;
    expect((await platform.services.payments.get(wrong!.payment.id)).failedApprovals).toBe(1);
    expect(await failuresOf(alice.id)).toBe(1);
    // A later success resets the payer's count, in the batch that posts it.
    await approve(alice, wrong!);
    expect(await failuresOf(alice.id)).toBe(0);
    // Embodiment 2 (first code and verification code) goes through the same executor.
    const viaEmbodiment2 = await platform.services.payments.approve(second!.payment.id, {
      firstCode: second!.firstCode!,
      verificationCode: alice.verificationCode,
    });
    expect(viaEmbodiment2.status).toBe('succeeded');
    expect(stats().all.inputsAlone).toBe(0);
  });

  it('gives two creations with one idempotency key one payment, and cancels only what it may', async () => {
    const [first, twin] = await Promise.all([
      platform.services.payments.create(creation(alice, 55, 'shop', 'payer:alice:key-1')),
      platform.services.payments.create(creation(alice, 55, 'shop', 'payer:alice:key-1')),
    ]);
    expect(twin!.payment.id).toBe(first!.payment.id);
    // A retry after the first has committed finds its payment and is answered with it, without a second
    // hold and without its first code.
    const before = stats();
    const retried = await platform.services.payments.create(creation(alice, 55, 'shop', 'payer:alice:key-1'));
    expect(retried.payment.id).toBe(first!.payment.id);
    expect(retried.firstCode).toBeUndefined();
    expect(stats().creations.batches - before.creations.batches).toBe(1);
    expect(stats().creations.batchesRolledBack - before.creations.batchesRolledBack).toBe(0);
    const holds = await platform.test.database.query('SELECT id FROM transfers WHERE reference = $1', [
      `payment:${first!.payment.id}`,
    ]);
    expect(holds).toHaveLength(1);
    const rows = await platform.test.database.query('SELECT id FROM payments WHERE id = $1', [
      first!.payment.id,
    ]);
    expect(rows).toHaveLength(1);
    const other = await platform.services.payments.create(creation(bob, 20));
    const settled = await Promise.allSettled([
      platform.services.payments.cancel(first!.payment.id, alice.id),
      platform.services.payments.cancel(other.payment.id, alice.id),
      platform.services.payments.cancel(first!.payment.id, alice.id),
    ]);
    expect(settled.map(errorCode)).toEqual([undefined, 'payment_not_found', 'payment_not_cancelable']);
    expect((value(settled[0]!) as Payment).status).toBe('canceled');
    expect((await platform.services.payments.get(other.payment.id)).status).toBe('requires_approval');
    await platform.services.payments.cancel(other.payment.id, bob.id);
    expect((await platform.services.ledger.verify()).ok).toBe(true);
  });

  it('writes what a batch of one writes (group commit off): the same rows and the same audit events', async () => {
    const unbatched = await startTestPlatform(engine, { codeTtlSeconds: 60, commitBatchSize: 0 });
    try {
      const carol = await createFundedPayer(unbatched.app, unbatched.operatorToken, 'carol', 10_000);
      await createPayee(unbatched.app, unbatched.operatorToken, 'shop');
      const trace = async (target: TestPlatform, payer: TestPayer) => {
        const created = await target.services.payments.create(creation(payer, 700));
        await target.services.payments.approve(created.payment.id, {
          secondCode: await secondCodeFor(payer, created.firstCode!),
        });
        const [payment] = await target.test.database.query(
          `SELECT amount, currency, status, deliver_to, failed_approvals, payment_request_id,
             expires_at_ms - created_at_ms AS lifetime_ms, length(first_code_hash) AS hash_length
           FROM payments WHERE id = $1`,
          [created.payment.id],
        );
        const transfers = await target.test.database.query(
          `SELECT kind, amount, currency, reference IS NOT NULL AS has_reference, pending_id IS NOT NULL AS resolves
           FROM transfers WHERE id = $1 OR pending_id = $1 ORDER BY kind`,
          [created.payment.holdTransferId],
        );
        const codes = await target.test.database.query(
          'SELECT count(*)::int AS count FROM payment_second_codes WHERE payment_id = $1',
          [created.payment.id],
        );
        const audit = await target.test.database.query<{ event: string; detail: string }>(
          `SELECT event, detail FROM audit_log
           WHERE detail LIKE '%' || $1 || '%' OR subject = $1 ORDER BY position`,
          [created.payment.id],
        );
        const events = audit.map((entry) => ({
          event: entry.event,
          detail: Object.keys(JSON.parse(entry.detail)).sort(),
        }));
        return { payment, transfers, codes, events };
      };
      expect(await trace(platform, alice)).toEqual(await trace(unbatched, carol));
      expect(unbatched.services.payments.batchStats().all.batchSizeLargest).toBe(1);
    } finally {
      await unbatched.dispose();
    }
  });

  it('runs the API end to end with group commit: session, idempotency key, create, approve', async () => {
    const session = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: alice.id,
      password: alice.password,
    });
    expect(session.statusCode, session.body).toBe(201);
    const token = session.json().token as string;
    const responses = await Promise.all(
      [1, 2, 3, 4].map((n) =>
        call(
          platform.app,
          'POST',
          '/v1/payments',
          { payeeId: 'shop', amount: 40 + n, currency: 'EUR', deliverTo: 'first_terminal' },
          { token, headers: { 'idempotency-key': `end-to-end-${engine}-${n}` } },
        ),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual([201, 201, 201, 201]);
    // A retried request is answered from its stored response, and creates nothing new.
    const retried = await call(
      platform.app,
      'POST',
      '/v1/payments',
      { payeeId: 'shop', amount: 41, currency: 'EUR', deliverTo: 'first_terminal' },
      { token, headers: { 'idempotency-key': `end-to-end-${engine}-1` } },
    );
    expect(retried.headers['idempotent-replayed']).toBe('true');
    expect(retried.json().id).toBe(responses[0]!.json().id);
    const approvals = await Promise.all(
      responses.map(async (response) => {
        const payment = response.json() as { id: string; firstCode: string };
        return call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, {
          secondCode: await secondCodeFor(alice, payment.firstCode),
        });
      }),
    );
    expect(approvals.map((r) => r.json().status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect((await platform.services.audit.verify()).ok).toBe(true);
  });
});
