// Proves on both engines that a webhook event committed with its change survives a kill -9 of the server before delivery: the restarted server delivers it, signed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Countersign, verifyWebhook } from '@countersign/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import { freePort, ServerProcess } from '../faults/server-process.js';
import { openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';
import { startWebhookReceiver, type WebhookReceiver } from './merchant-support.js';

describe.each(testEngines())('the webhook outbox across a kill -9 on %s', (engine) => {
  let directory: string;
  let database: TestDatabase | undefined;
  let receiver: WebhookReceiver;
  let environment: Record<string, string>;
  let port: number;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-outbox-'));
    receiver = await startWebhookReceiver();
    port = await freePort();
    environment = {
      DATA_DIR: directory,
      OPERATOR_TOKEN: `cs_op_${randomBytes(24).toString('base64url')}`,
      MASTER_KEY: randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    };
    if (engine === 'postgres') {
      database = await openTestDatabase('postgres', 2);
      environment['DATABASE_URL'] = database.url!;
    }
  });
  afterAll(async () => {
    for (const server of servers) await server.dispose();
    await receiver.close();
    await database?.dispose();
    await rm(directory, { recursive: true, force: true });
  });

  function server(sweepIntervalMs: number): ServerProcess {
    const started = new ServerProcess(
      port,
      { ...environment, SWEEP_INTERVAL_MS: String(sweepIntervalMs) },
      path.join(directory, `server-${servers.length}.log`),
    );
    servers.push(started);
    return started;
  }

  it('delivers the payment_request.paid event after the server died between commit and delivery', async () => {
    // Background jobs first run a minute after start: nothing is delivered before the kill.
    const first = server(60_000);
    await first.start();
    const operator = async (url: string, body: unknown) => {
      const response = await fetch(`${first.url}${url}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${environment['OPERATOR_TOKEN']}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      expect(response.status, await response.clone().text()).toBe(201);
      return response.json();
    };
    const payer = await operator('/v1/payers', {
      id: 'crash-payer',
      password: 'correct horse battery',
      verificationCode: '2468',
    });
    await operator('/v1/deposits', { payerId: 'crash-payer', amount: 5000, currency: 'EUR' });
    const merchant = await operator('/v1/merchants', {
      id: 'crash-shop',
      name: 'Crash Shop',
      webhookUrl: receiver.url,
    });
    const countersign = new Countersign({ apiKey: merchant.apiKey, baseUrl: first.url });
    const request = await countersign.paymentRequests.create({
      amount: 1999,
      currency: 'EUR',
      reference: 'order-crash',
    });
    const payment = await (
      await fetch(`${first.url}/v1/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          payerId: 'crash-payer',
          password: 'correct horse battery',
          paymentRequestId: request.id,
          deliverTo: 'first_terminal',
        }),
      })
    ).json();
    const secondCode = await computeOcra({
      suite: payer.terminal.suite,
      key: hexToBytes(payer.terminal.keyHex),
      question: payment.firstCode,
      pin: '2468',
    });
    const redeemed = await countersign.paymentRequests.redeem(request.id, { secondCode });
    expect(redeemed).toMatchObject({ status: 'paid', paymentId: payment.id });
    expect(receiver.received).toHaveLength(0);
    await first.kill9();

    const second = server(50);
    await second.start();
    await receiver.waitFor(1, 20_000);
    const events = await Promise.all(
      receiver.received.map((webhook) =>
        verifyWebhook(webhook.body, webhook.signature, merchant.webhookSecret),
      ),
    );
    // At least once: every delivery that arrived is the one event of this payment.
    expect(new Set(events.map((event) => event.id)).size).toBe(1);
    expect(events[0]).toMatchObject({
      type: 'payment_request.paid',
      data: { object: { id: request.id, status: 'paid', paymentId: payment.id } },
    });
    const restarted = new Countersign({ apiKey: merchant.apiKey, baseUrl: second.url });
    expect((await restarted.paymentRequests.retrieve(request.id)).status).toBe('paid');
    await second.stop();
    // PGlite recovers its data directory at the restart after a kill -9, which takes tens of seconds.
  }, 240_000);
});
