// Proves on both engines that an enrolled terminal approves a payment with the payer's passkey through its signed endpoints (also with the `payment.get` client data of Secure Payment Confirmation), that a payment of another payer is payment_not_found and a malformed body invalid_request, both changing nothing, and that a wrong assertion is approval_failed and counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import { SoftwareAuthenticator } from '../support/software-authenticator.js';
import { injectTransport, TestTerminal } from '../terminal/support/test-terminal.js';

const origin = 'http://localhost:8080';
const password = 'correct horse battery';

describe.each(testEngines())('passkey approvals on the signed terminal endpoints on %s', (engine) => {
  let platform: TestPlatform;
  let phone: TestTerminal;
  const authenticator = new SoftwareAuthenticator(origin);
  const now = () => platform.clock.nowMs();

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { publicUrl: origin });
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Corner Shop');
    const alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    await createFundedPayer(platform.app, platform.operatorToken, 'bob', 100_000);
    phone = await TestTerminal.enroll(injectTransport(platform.app), now, alice.enrollmentUri, '4321');
    const registration = await platform.services.passkeys.registrationOptions('alice');
    await platform.services.passkeys.register('alice', {
      challengeId: registration.challengeId,
      response: authenticator.register(registration.options),
    });
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  async function pay(payerId = 'alice'): Promise<string> {
    const answer = await call(platform.app, 'POST', '/v1/payments', {
      payerId,
      password,
      payeeId: 'shop',
      amount: 300,
      currency: 'EUR',
      deliverTo: 'second_terminal',
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json().id as string;
  }
  const paymentRow = async (id: string) =>
    (
      await platform.test.database.query<{ status: string; failed_approvals: number }>(
        'SELECT status, failed_approvals FROM payments WHERE id = $1',
        [id],
      )
    )[0];
  const options = async (paymentId: string) => {
    const answer = await phone.call('POST', `/v1/terminal/payments/${paymentId}/passkey-options`);
    expect(answer.status, answer.body).toBe(200);
    return answer.json() as {
      challengeId: string;
      options: { challenge: string; rpId: string };
      display: Record<string, string>;
    };
  };

  it('approves with the assertion of the payer’s passkey, as WebAuthn or Secure Payment Confirmation signs it', async () => {
    for (const type of ['webauthn.get', 'payment.get'] as const) {
      const paymentId = await pay();
      const ceremony = await options(paymentId);
      expect(ceremony.display).toEqual({
        payeeId: 'shop',
        payeeName: 'Corner Shop',
        amount: '3.00',
        currency: 'EUR',
      });
      const answer = await phone.call('POST', `/v1/terminal/payments/${paymentId}/passkey-approve`, {
        challengeId: ceremony.challengeId,
        response: authenticator.assert(ceremony.options, { type }),
      });
      expect(answer.status, answer.body).toBe(200);
      expect(answer.json()).toMatchObject({ id: paymentId, status: 'succeeded' });
      expect(await paymentRow(paymentId)).toEqual({ status: 'succeeded', failed_approvals: 0 });
    }
  });

  it('answers payment_not_found for another payer’s payment, and changes nothing', async () => {
    const bobs = await pay('bob');
    const before = await snapshotTables(platform.test.database);
    const asked = await phone.call('POST', `/v1/terminal/payments/${bobs}/passkey-options`);
    expect(asked.status).toBe(404);
    expect(asked.json().error.code).toBe('payment_not_found');
    // Even with a valid assertion of Bob's payment in hand, Alice's terminal cannot send it.
    const bobsOptions = await platform.services.passkeys.approvalOptions('bob', bobs);
    const between = await snapshotTables(platform.test.database);
    const sent = await phone.call('POST', `/v1/terminal/payments/${bobs}/passkey-approve`, {
      challengeId: bobsOptions.challengeId,
      response: authenticator.assert(bobsOptions.options),
    });
    expect(sent.status).toBe(404);
    expect(sent.json().error.code).toBe('payment_not_found');
    // A signed request that was checked leaves its nonce (so that it cannot be replayed), and nothing else;
    // the only challenge is the one issued to Bob above.
    const changed = (from: typeof before, to: typeof before) =>
      changedTables(from, to).filter((table) => table !== 'terminal_request_nonces');
    expect(changed(between, await snapshotTables(platform.test.database))).toEqual([]);
    expect(changed(before, between)).toEqual(['passkey_challenges']);
    expect(await paymentRow(bobs)).toEqual({ status: 'requires_approval', failed_approvals: 0 });
  });

  it('refuses a malformed body with invalid_request, and changes nothing', async () => {
    const paymentId = await pay();
    const ceremony = await options(paymentId);
    const before = await snapshotTables(platform.test.database);
    for (const body of [
      { challengeId: ceremony.challengeId },
      { challengeId: 'not-a-uuid', response: {} },
      { challengeId: ceremony.challengeId, response: 'text' },
      { challengeId: ceremony.challengeId, response: {}, extra: true },
    ]) {
      const answer = await phone.call('POST', `/v1/terminal/payments/${paymentId}/passkey-approve`, body);
      expect(answer.status, answer.body).toBe(400);
      expect(answer.json().error.code).toBe('invalid_request');
    }
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('answers approval_failed for an assertion over another challenge, and counts it', async () => {
    const paymentId = await pay();
    const ceremony = await options(paymentId);
    const other = await options(await pay());
    const answer = await phone.call('POST', `/v1/terminal/payments/${paymentId}/passkey-approve`, {
      challengeId: ceremony.challengeId,
      response: authenticator.assert(ceremony.options, { challenge: other.options.challenge }),
    });
    expect(answer.status).toBe(401);
    expect(answer.json().error.code).toBe('approval_failed');
    expect(await paymentRow(paymentId)).toEqual({ status: 'requires_approval', failed_approvals: 1 });
  });
});
