// Proves on both engines that a server killed with SIGKILL after committing a payment but before its outbox job pushed the challenge still delivers it after a restart: by SMS gateway, on the terminal's stream and in its open challenges.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines } from '../support/engines.js';
import { api, type ServerUnderTest, startServerUnderTest } from './support/server.js';
import { type SmsReceiver, startSmsReceiver } from './support/sms-receiver.js';
import { EventReader } from './support/sse.js';
import { fetchTransport, TestTerminal } from './support/test-terminal.js';

const gatewaySecret = 'crash-test-gateway-secret-0123456789abcdef';

describe.each(testEngines())('outbox across a crash on %s', (engine) => {
  let receiver: SmsReceiver;
  let server: ServerUnderTest;

  beforeAll(async () => {
    receiver = await startSmsReceiver();
    // A minute between background passes: the outbox job cannot run before the kill below.
    server = await startServerUnderTest(engine, {
      SWEEP_INTERVAL_MS: '60000',
      SMS_GATEWAY_URL: receiver.url,
      SMS_GATEWAY_SECRET: gatewaySecret,
      // The test's receiver listens on plain http on 127.0.0.1.
      SMS_GATEWAY_ALLOW_HTTP: 'true',
    });
  }, 240_000);
  afterAll(async () => {
    await server?.dispose();
    await receiver?.close();
  }, 240_000);

  it('delivers a challenge committed before a SIGKILL once the server is back', async () => {
    const created = await api(
      server.url,
      'POST',
      '/v1/payers',
      { id: 'dave', password: 'correct horse battery', verificationCode: '8642' },
      server.operatorToken,
    );
    await api(server.url, 'POST', '/v1/payees', { id: 'shop', name: 'Corner Shop' }, server.operatorToken);
    await api(
      server.url,
      'POST',
      '/v1/deposits',
      { payerId: 'dave', amount: 10_000, currency: 'EUR' },
      server.operatorToken,
    );
    const phone = await TestTerminal.enroll(
      fetchTransport(server.url),
      Date.now,
      created.json.terminal.enrollmentUri,
      '8642',
    );
    const payment = await api(server.url, 'POST', '/v1/payments', {
      payerId: 'dave',
      password: 'correct horse battery',
      payeeId: 'shop',
      amount: 4321,
      currency: 'EUR',
      deliverTo: 'second_terminal',
    });
    expect(payment.status).toBe(201);
    await server.server.kill9();
    expect(receiver.received).toEqual([]);

    // Back with the usual interval; the terminal reconnects and the outbox job runs.
    await server.restart({ SWEEP_INTERVAL_MS: '200' });
    const signed = await phone.sign('GET', '/v1/terminal/events');
    const stream = new EventReader(await fetch(`${server.url}${signed.path}`, { headers: signed.headers }));
    const event = await stream.next(30_000);
    expect(event?.event).toBe('challenge');
    const challenge = JSON.parse(event!.data);
    expect(challenge).toMatchObject({ paymentId: payment.json.id, amount: 4321, payeeName: 'Corner Shop' });
    await stream.close();

    const deadline = Date.now() + 30_000;
    while (receiver.received.length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
      firstCode: challenge.firstCode,
      payment: { id: payment.json.id, amount: 4321 },
    });
    // The gateway answered; the outbox records the outcome right after.
    const delivered = async () =>
      (
        await api(server.url, 'GET', '/v1/deliveries?status=delivered', undefined, server.operatorToken)
      ).json.data.map((d: { paymentId: string }) => d.paymentId);
    await expect.poll(delivered, { timeout: 30_000 }).toEqual([payment.json.id]);

    const approved = await phone.call('POST', `/v1/terminal/payments/${payment.json.id}/approve`, {
      secondCode: await phone.secondCode(challenge.firstCode),
    });
    expect(approved.json().status).toBe('succeeded');
  }, 300_000);
});
