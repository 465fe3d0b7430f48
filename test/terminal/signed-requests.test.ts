// Proves on both engines that an enrolled terminal reads its open challenges (first code, amount, payee) and approves or declines with signed requests, and that a replayed, forged, tampered, stale or unknown-terminal request is refused with its code and changes nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTerminalKeyPair } from '../../src/domain/enrollment-credential.js';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import { type Answer, injectTransport, TestTerminal } from './support/test-terminal.js';

describe.each(testEngines())('signed terminal requests on %s', (engine) => {
  let platform: TestPlatform;
  let phone: TestTerminal;
  const now = () => platform.clock.nowMs();
  const password = 'correct horse battery';

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 120 });
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Corner Shop');
    await createPayee(platform.app, platform.operatorToken, 'books', 'Book Nook');
    const alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    phone = await TestTerminal.enroll(injectTransport(platform.app), now, alice.enrollmentUri, '4321');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  async function pay(amount: number, payeeId = 'shop', deliverTo = 'second_terminal') {
    const answer = await call(platform.app, 'POST', '/v1/payments', {
      payerId: 'alice',
      password,
      payeeId,
      amount,
      currency: 'EUR',
      deliverTo,
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json() as { id: string; firstCode?: string };
  }

  async function challenges() {
    const answer = await phone.call('GET', '/v1/terminal/challenges');
    expect(answer.status, answer.body).toBe(200);
    return answer.json().data as {
      id: string;
      paymentId: string;
      firstCode: string;
      amount: number;
      currency: string;
      payeeName: string;
      expiresAt: string;
    }[];
  }

  it('lists open challenges with what they approve, and approves one from the terminal', async () => {
    const first = await pay(1250);
    const second = await pay(4999, 'books');
    await pay(10, 'shop', 'first_terminal');
    // Created at the same instant of the manual clock: their order is not defined, so sort by amount.
    const open = (await challenges()).sort((a, b) => a.amount - b.amount);
    expect(open.map((c) => [c.paymentId, c.amount, c.currency, c.payeeName])).toEqual([
      [first.id, 1250, 'EUR', 'Corner Shop'],
      [second.id, 4999, 'EUR', 'Book Nook'],
    ]);
    expect(open[0]!.firstCode).toMatch(/^[0-9]{8}$/);
    const secondCode = await phone.secondCode(open[1]!.firstCode);
    const approved = await phone.call('POST', `/v1/terminal/payments/${second.id}/approve`, { secondCode });
    expect(approved.status, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ id: second.id, status: 'succeeded', amount: 4999 });
    expect((await challenges()).map((c) => c.paymentId)).toEqual([first.id]);
    const declined = await phone.call('POST', `/v1/terminal/payments/${first.id}/decline`);
    expect(declined.status, declined.body).toBe(200);
    expect(declined.json().status).toBe('canceled');
    expect(await challenges()).toEqual([]);
  });

  it('counts a wrong second code from the terminal like any approval', async () => {
    const payment = await pay(700);
    const wrong = await phone.call('POST', `/v1/terminal/payments/${payment.id}/approve`, {
      secondCode: '00000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json().error.code).toBe('approval_failed');
    const shown = await call(platform.app, 'GET', `/v1/payments/${payment.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(shown.json().failedApprovals).toBe(1);
    const [open] = await challenges();
    const right = await phone.call('POST', `/v1/terminal/payments/${payment.id}/approve`, {
      secondCode: await phone.secondCode(open!.firstCode),
    });
    expect(right.json().status).toBe('succeeded');
  });

  it('refuses a replayed request and changes nothing', async () => {
    const payment = await pay(300);
    const [open] = await challenges();
    const signed = await phone.sign('POST', `/v1/terminal/payments/${payment.id}/decline`);
    const listing = await phone.sign('GET', '/v1/terminal/challenges');
    expect((await phone.send(listing)).status).toBe(200);
    const before = await snapshotTables(platform.test.database);
    const replayed = await phone.send(listing);
    expect(replayed.status).toBe(401);
    expect(replayed.json().error.code).toBe('terminal_request_replayed');
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    // A replayed decline, after the original went through, declines nothing more.
    expect((await phone.send(signed)).json().status).toBe('canceled');
    const afterDecline = await snapshotTables(platform.test.database);
    expect((await phone.send(signed)).json().error.code).toBe('terminal_request_replayed');
    expect(changedTables(afterDecline, await snapshotTables(platform.test.database))).toEqual([]);
    expect(open!.paymentId).toBe(payment.id);
  });

  it('refuses forged, tampered, stale and unknown-terminal requests, and changes nothing', async () => {
    const payment = await pay(800);
    const [open] = await challenges();
    const secondCode = await phone.secondCode(open!.firstCode);
    const path = `/v1/terminal/payments/${payment.id}/approve`;
    const before = await snapshotTables(platform.test.database);
    const expectRefused = async (request: Promise<Answer>, code: string) => {
      const answer = await request;
      expect(answer.status).toBe(401);
      expect(answer.json().error.code).toBe(code);
    };
    const intruder = await generateTerminalKeyPair();
    await expectRefused(
      phone.call('POST', path, { secondCode }, { privateKey: intruder.privateKey }),
      'terminal_authentication_failed',
    );
    await expectRefused(
      phone.call('POST', path, { secondCode: '11111111' }, { sentBody: JSON.stringify({ secondCode }) }),
      'terminal_authentication_failed',
    );
    const signedForOtherPath = await phone.sign('POST', `/v1/terminal/payments/${randomUUID()}/approve`, {
      secondCode,
    });
    await expectRefused(phone.send({ ...signedForOtherPath, path }), 'terminal_authentication_failed');
    await expectRefused(
      phone.call('POST', path, { secondCode }, { timestampMs: now() - 61_000 }),
      'terminal_request_expired',
    );
    await expectRefused(
      phone.call('POST', path, { secondCode }, { timestampMs: now() + 61_000 }),
      'terminal_request_expired',
    );
    const unsigned = await phone.sign('POST', path, { secondCode });
    const { 'countersign-signature': _dropped, ...withoutSignature } = unsigned.headers;
    await expectRefused(
      phone.send({ ...unsigned, headers: withoutSignature }),
      'terminal_authentication_failed',
    );
    const stranger = new TestTerminal(
      randomUUID(),
      'alice',
      phone.suite,
      phone.keyHex,
      '4321',
      intruder.privateKey,
      (r) => phone.send(r),
      now,
    );
    await expectRefused(stranger.call('POST', path, { secondCode }), 'terminal_authentication_failed');
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    const stale = await call(platform.app, 'GET', `/v1/payments/${payment.id}`, undefined, {
      token: platform.operatorToken,
    });
    expect(stale.json()).toMatchObject({ status: 'requires_approval', failedApprovals: 0 });
    // The genuine request still approves.
    expect((await phone.call('POST', path, { secondCode })).json().status).toBe('succeeded');
  });

  it('refuses a signed body that gives a key twice, as every JSON body of the API is refused', async () => {
    const payment = await pay(900);
    const path = `/v1/terminal/payments/${payment.id}/approve`;
    const signed = await phone.sign('POST', path, { secondCode: '12345678' });
    const before = await snapshotTables(platform.test.database);
    const answer = await phone.send({ ...signed, body: '{"secondCode":"11111111","secondCode":"12345678"}' });
    expect(answer.status).toBe(400);
    expect(answer.json().error).toMatchObject({ code: 'invalid_request', param: 'secondCode' });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    await phone.call('POST', `/v1/terminal/payments/${payment.id}/decline`);
  });

  it("answers payment_not_found for another payer's payment", async () => {
    await call(
      platform.app,
      'POST',
      '/v1/payers',
      { id: 'bob', password, verificationCode: '1111' },
      { token: platform.operatorToken },
    );
    await call(
      platform.app,
      'POST',
      '/v1/deposits',
      { payerId: 'bob', amount: 1000, currency: 'EUR' },
      {
        token: platform.operatorToken,
      },
    );
    const bobs = await call(platform.app, 'POST', '/v1/payments', {
      payerId: 'bob',
      password,
      payeeId: 'shop',
      amount: 100,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    const answer = await phone.call('POST', `/v1/terminal/payments/${bobs.json().id}/approve`, {
      secondCode: '12345678',
    });
    expect(answer.status).toBe(404);
    expect(answer.json().error.code).toBe('payment_not_found');
    const decline = await phone.call('POST', `/v1/terminal/payments/${bobs.json().id}/decline`);
    expect(decline.json().error.code).toBe('payment_not_found');
  });

  it('forgets nonces only once their requests would be stale anyway', async () => {
    const count = async () =>
      Number(
        (
          await platform.test.database.query<{ n: bigint }>(
            'SELECT count(*)::bigint AS n FROM terminal_request_nonces',
          )
        )[0]!.n,
      );
    const before = await count();
    expect(before).toBeGreaterThan(0);
    expect(await platform.services.terminals.purgeNonces()).toBe(0);
    platform.clock.advance(61_000);
    expect(await platform.services.terminals.purgeNonces()).toBe(before);
    expect(await count()).toBe(0);
  });
});
