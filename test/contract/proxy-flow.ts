// The merchant flow of docs/api.md, "Through a validating proxy": the typed client as a merchant and fetch as
// the payer, against the base URL given (the proxy), with the credentials `countersign demo` printed.
// Usage: node --import tsx test/contract/proxy-flow.ts demo.json http://127.0.0.1:4010

import { readFileSync } from 'node:fs';
import { Countersign } from '../../packages/client/src/index.js';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';

const demo = JSON.parse(readFileSync(process.argv[2] ?? 'demo.json', 'utf8'));
const base = process.argv[3] ?? 'http://127.0.0.1:4010';
const client = new Countersign({ apiKey: demo.merchant.apiKey, baseUrl: base, maxNetworkRetries: 0 });
const step = (name: string, value: unknown) =>
  console.log(`ok ${name}: ${JSON.stringify(value).slice(0, 160)}`);

await client.merchant.update({ webhookUrl: null });
const request = await client.paymentRequests.create({
  amount: 1250,
  currency: 'EUR',
  reference: 'order-prism-1',
  metadata: { order: '1' },
});
step('create payment request', request);
step('retrieve', await client.paymentRequests.retrieve(request.id));
const paid = await fetch(`${base}/v1/payments`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'idempotency-key': `prism-${request.id}` },
  body: JSON.stringify({
    payerId: demo.payer.id,
    password: demo.payer.password,
    paymentRequestId: request.id,
    deliverTo: 'first_terminal',
    metadata: { basket: '1 coffee' },
  }),
});
const payment = await paid.json();
if (paid.status !== 201) throw new Error(`pay: ${paid.status} ${JSON.stringify(payment)}`);
step('payer pays (201)', payment);
const wrong = await client.paymentRequests
  .redeem(request.id, { secondCode: '00000000' })
  .catch((error) => error);
step('redeem with a wrong code (refused)', { status: wrong.status, code: wrong.code });
const secondCode = await computeOcra({
  suite: demo.payer.terminal.suite,
  key: hexToBytes(demo.payer.terminal.keyHex),
  question: payment.firstCode,
  pin: demo.payer.verificationCode,
});
const redeemed = await client.paymentRequests.redeem(request.id, { secondCode });
step('redeem', redeemed);
const refund = await client.refunds.create({
  paymentId: payment.id,
  amount: 250,
  metadata: { reason: 'prism' },
});
step('refund', refund);
step('retrieve refund', await client.refunds.retrieve(refund.id));
step('list refunds', await client.refunds.list({ limit: 5 }));
step('list payment requests', await client.paymentRequests.list({ limit: 5 }));
const events = await client.events.list({ limit: 5 });
step('list events', events);
step('retrieve event', await client.events.retrieve(events.data[0]!.id));
step('balance', await client.balance.retrieve('EUR'));
step('webhook deliveries', await client.webhookDeliveries.list());
step('merchant', await client.merchant.retrieve());
const other = await client.paymentRequests.create({
  amount: 500,
  currency: 'EUR',
  reference: 'order-prism-2',
});
step('cancel', await client.paymentRequests.cancel(other.id));
const badVersion = await fetch(`${base}/v1/balance?currency=EUR`, {
  headers: { authorization: `Bearer ${demo.merchant.apiKey}`, 'countersign-version': '1999-01-01' },
});
step('unknown version (refused)', { status: badVersion.status, body: await badVersion.json() });
const badQuery = await fetch(`${base}/v1/merchant?expand=keys`, {
  headers: { authorization: `Bearer ${demo.merchant.apiKey}` },
});
step('unknown query parameter (refused)', { status: badQuery.status, body: await badQuery.json() });
console.log('flow done');
