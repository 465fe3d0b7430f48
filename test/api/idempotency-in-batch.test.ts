// Proves that a payment's idempotency key, claimed in the payment's own batch, keeps every promise of a key claimed before the handler, over two server processes on PostgreSQL: one payment per key under a burst, replays, a refusal stored and replayed without counting a second attempt, a key reused with another request refused, a key whose holder's lease ran out taken over, and a refusal made before the batch stored, or the key's earlier answer replayed instead of it.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import { canonicalJson } from '../../src/http/idempotency.js';
import { createSecrets } from '../../src/services/keys/secrets.js';
import { openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';
import { type ServerProcess, startServerProcess } from '../support/processes.js';

const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
const masterKey = randomBytes(32).toString('hex');

interface Answer {
  readonly status: number;
  readonly replayed: boolean;
  readonly text: string;
  readonly body: Record<string, unknown> & { error?: { code: string } };
}

async function post(server: ServerProcess, url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    text,
    body: JSON.parse(text) as Answer['body'],
  } satisfies Answer;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Server processes each load the whole platform: slow on a busy machine. */
const processesMs = 600_000;

describe.runIf(testEngines().includes('postgres'))(
  'idempotency keys claimed in the payment batch, over two servers',
  { timeout: processesMs },
  () => {
    let test: TestDatabase;
    let dataDirs: string[] = [];
    let servers: ServerProcess[] = [];
    let terminal: { suite: string; keyHex: string };
    const payer = { id: 'alice', password: 'correct horse battery', verificationCode: '4321' };
    // A session, not the password: concurrent password checks of one payer are bounded on their own.
    let session: Record<string, string>;
    const paymentBody = (amount: number) => ({
      payeeId: 'shop',
      amount,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });

    beforeAll(async () => {
      test = await openTestDatabase('postgres', 2);
      dataDirs = await Promise.all(
        [0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'countersign-idempotency-batch-'))),
      );
      servers = await Promise.all(
        dataDirs.map((dir) =>
          startServerProcess({
            DATABASE_URL: test.url!,
            DATABASE_POOL_SIZE: '5',
            OPERATOR_TOKEN: operatorToken,
            MASTER_KEY: masterKey,
            LOG_LEVEL: 'silent',
            DATA_DIR: dir,
          }),
        ),
      );
      const auth = { authorization: `Bearer ${operatorToken}` };
      const created = await post(servers[0]!, '/v1/payers', payer, auth);
      expect(created.status, created.text).toBe(201);
      terminal = created.body['terminal'] as typeof terminal;
      expect((await post(servers[1]!, '/v1/payees', { id: 'shop', name: 'Shop' }, auth)).status).toBe(201);
      const deposit = { payerId: payer.id, amount: 100_000, currency: 'EUR' };
      expect((await post(servers[0]!, '/v1/deposits', deposit, auth)).status).toBe(201);
      const signedIn = await post(servers[1]!, '/v1/sessions', {
        payerId: payer.id,
        password: payer.password,
      });
      expect(signedIn.status, signedIn.text).toBe(201);
      session = { authorization: `Bearer ${signedIn.body['token'] as string}` };
    }, processesMs);
    afterAll(async () => {
      await Promise.allSettled(servers.map((server) => server.stop()));
      await test?.dispose();
      await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    const holds = async () =>
      Number((await test.database.query<{ n: bigint }>(`SELECT count(*) AS n FROM pending_transfers`))[0]!.n);
    const keyRow = async (key: string) =>
      (
        await test.database.query<{ status: string; response_status: number | null }>(
          'SELECT status, response_status FROM idempotency_keys WHERE key = $1',
          [key],
        )
      )[0];

    it('creates one payment for a burst of 24 requests with one key over both servers', async () => {
      const before = await holds();
      const answers = await Promise.all(
        Array.from({ length: 24 }, (_, index) =>
          post(servers[index % 2]!, '/v1/payments', paymentBody(700), {
            ...session,
            'idempotency-key': 'burst-create',
          }),
        ),
      );
      const created = answers.filter((answer) => answer.status === 201);
      const inUse = answers.filter((answer) => answer.status === 409);
      expect(created.length + inUse.length, answers.map((a) => a.text).join('\n')).toBe(24);
      expect(created.filter((answer) => !answer.replayed)).toHaveLength(1);
      expect(new Set(created.map((answer) => answer.body['id']))).toHaveProperty('size', 1);
      for (const answer of inUse) expect(answer.body.error?.code).toBe('idempotency_key_in_use');
      expect((await holds()) - before).toBe(1);
      expect(await keyRow('burst-create')).toEqual({ status: 'completed', response_status: 201 });

      const retried = await post(servers[1]!, '/v1/payments', paymentBody(700), {
        ...session,
        'idempotency-key': 'burst-create',
      });
      expect(retried).toMatchObject({ status: 201, replayed: true });
      expect(retried.text).toBe(created.find((answer) => !answer.replayed)!.text);
      expect((await holds()) - before).toBe(1);
    });

    it('refuses the same key with another request and creates nothing', async () => {
      const first = await post(servers[0]!, '/v1/payments', paymentBody(100), {
        ...session,
        'idempotency-key': 'reused',
      });
      expect(first.status).toBe(201);
      const before = await holds();
      const other = await post(servers[1]!, '/v1/payments', paymentBody(101), {
        ...session,
        'idempotency-key': 'reused',
      });
      expect(other.status).toBe(422);
      expect(other.body.error?.code).toBe('idempotency_key_reused');
      expect(await holds()).toBe(before);
    });

    it('stores a refusal made in the batch and replays it, without counting a second attempt', async () => {
      const payment = await post(servers[0]!, '/v1/payments', paymentBody(300), session);
      expect(payment.status).toBe(201);
      const id = payment.body['id'] as string;
      const wrong = { secondCode: '000000' };
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          post(servers[index % 2]!, `/v1/payments/${id}/approve`, wrong, { 'idempotency-key': 'wrong-code' }),
        ),
      );
      const refused = answers.filter((answer) => answer.status === 401);
      expect(refused.length + answers.filter((answer) => answer.status === 409).length).toBe(8);
      expect(refused.filter((answer) => !answer.replayed)).toHaveLength(1);
      for (const answer of refused) expect(answer.body.error?.code).toBe('approval_failed');
      const [row] = await test.database.query<{ failed: number; status: string }>(
        'SELECT failed_approvals AS failed, status FROM payments WHERE id = $1',
        [id],
      );
      expect(row).toEqual({ failed: 1, status: 'requires_approval' });
      expect(await keyRow('wrong-code')).toEqual({ status: 'completed', response_status: 401 });

      const secondCode = await computeOcra({
        suite: terminal.suite,
        key: hexToBytes(terminal.keyHex),
        question: payment.body['firstCode'] as string,
        pin: payer.verificationCode,
      });
      const approvals = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          post(
            servers[index % 2]!,
            `/v1/payments/${id}/approve`,
            { secondCode },
            { 'idempotency-key': 'right' },
          ),
        ),
      );
      const approved = approvals.filter((answer) => answer.status === 200);
      expect(approved.length + approvals.filter((answer) => answer.status === 409).length).toBe(8);
      expect(approved.filter((answer) => !answer.replayed)).toHaveLength(1);
      for (const answer of approved) expect(answer.body['status']).toBe('succeeded');
      const posts = await test.database.query(
        `SELECT 1 FROM transfers t JOIN payments p ON t.pending_id = p.hold_transfer_id WHERE p.id = $1`,
        [id],
      );
      expect(posts).toHaveLength(1);
    });

    it('takes over a key whose holder died with it claimed, and runs the payment once', async () => {
      const body = paymentBody(250);
      const key = 'crashed-holder';
      // What the platform stores for this request: its scope and the keyed hash of its request hash.
      const scope = `principal:${sha256(`payer:${payer.id}`)}`;
      const requestHash = sha256(`POST\n/v1/payments\n${canonicalJson(body)}`);
      const stored = createSecrets(masterKey).keyedHash('idempotency_request', scope, key, requestHash);
      await test.database.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, status, created_at_ms, locked_until_ms)
         VALUES ($1, $2, $3, 'in_progress', $4, $5)`,
        [scope, key, stored, Date.now() - 120_000, Date.now() - 60_000],
      );
      const before = await holds();
      const answer = await post(servers[1]!, '/v1/payments', body, { ...session, 'idempotency-key': key });
      expect(answer.status, answer.text).toBe(201);
      expect(answer.replayed).toBe(false);
      expect((await holds()) - before).toBe(1);
      expect(await keyRow(key)).toEqual({ status: 'completed', response_status: 201 });
      const again = await post(servers[0]!, '/v1/payments', body, { ...session, 'idempotency-key': key });
      expect(again).toMatchObject({ status: 201, replayed: true, text: answer.text });
    });

    it("stores the ledger's refusal with the key, and replays it without a hold", async () => {
      const before = await holds();
      const tooMuch = paymentBody(10_000_000);
      const first = await post(servers[0]!, '/v1/payments', tooMuch, {
        ...session,
        'idempotency-key': 'no-funds',
      });
      expect(first.status).toBe(402);
      expect(first.body.error?.code).toBe('insufficient_funds');
      const again = await post(servers[1]!, '/v1/payments', tooMuch, {
        ...session,
        'idempotency-key': 'no-funds',
      });
      expect(again).toMatchObject({ status: 402, replayed: true, text: first.text });
      expect(await holds()).toBe(before);
    });

    it('replays the payment a key made when a retry finds its payment request paid, and stores a refusal made before the batch', async () => {
      const auth = { authorization: `Bearer ${operatorToken}` };
      const merchant = await post(servers[0]!, '/v1/merchants', { id: 'store', name: 'Store' }, auth);
      expect(merchant.status, merchant.text).toBe(201);
      const asMerchant = { authorization: `Bearer ${merchant.body['apiKey'] as string}` };
      const request = await post(
        servers[1]!,
        '/v1/payment-requests',
        { amount: 450, currency: 'EUR', reference: 'order-late-claim' },
        asMerchant,
      );
      expect(request.status, request.text).toBe(201);
      const pay = { paymentRequestId: request.body['id'] as string, deliverTo: 'first_terminal' };
      const paid = await post(servers[0]!, '/v1/payments', pay, {
        ...session,
        'idempotency-key': 'pay-order',
      });
      expect(paid.status, paid.text).toBe(201);
      const secondCode = await computeOcra({
        suite: terminal.suite,
        key: hexToBytes(terminal.keyHex),
        question: paid.body['firstCode'] as string,
        pin: payer.verificationCode,
      });
      const approved = await post(servers[1]!, `/v1/payments/${paid.body['id'] as string}/approve`, {
        secondCode,
      });
      expect(approved.body['status'], approved.text).toBe('succeeded');

      // The request is paid now, so the service refuses before the batch; the key still answers with the
      // payment it made.
      const holdsBefore = await holds();
      const retried = await post(servers[1]!, '/v1/payments', pay, {
        ...session,
        'idempotency-key': 'pay-order',
      });
      expect(retried).toMatchObject({ status: 201, replayed: true, text: paid.text });

      // A new key's refusal before the batch is stored under the key, even when a burst races for it.
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          post(servers[index % 2]!, '/v1/payments', pay, { ...session, 'idempotency-key': 'pay-paid-order' }),
        ),
      );
      const refused = answers.filter(
        (answer) => answer.status !== 409 || answer.body.error?.code !== 'idempotency_key_in_use',
      );
      expect(
        refused.filter((answer) => !answer.replayed),
        answers.map((a) => a.text).join('\n'),
      ).toHaveLength(1);
      const first = refused.find((answer) => !answer.replayed)!;
      expect(first.status).toBeGreaterThanOrEqual(400);
      expect(first.status).toBeLessThan(500);
      expect(first.body.error?.code).toMatch(/^payment_request_/);
      for (const answer of refused) expect(answer).toMatchObject({ status: first.status, text: first.text });
      expect(await keyRow('pay-paid-order')).toEqual({ status: 'completed', response_status: first.status });
      const again = await post(servers[0]!, '/v1/payments', pay, {
        ...session,
        'idempotency-key': 'pay-paid-order',
      });
      expect(again).toMatchObject({ status: first.status, replayed: true, text: first.text });
      expect(await holds()).toBe(holdsBefore);
    });
  },
);
