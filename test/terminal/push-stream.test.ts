// Proves on both engines that a terminal's event stream delivers its open challenges on connect and new ones as the outbox or another server's poll offers them, each once, with amount and payee; tells it when a payment closes; limits streams per terminal; and ends at once on revocation, here or on another server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { EventReader } from './support/sse.js';
import { fetchTransport, TestTerminal } from './support/test-terminal.js';

describe.each(testEngines())('terminal event stream on %s', (engine) => {
  let platform: TestPlatform;
  let baseUrl: string;
  let phone: TestTerminal;
  const readers: EventReader[] = [];
  const now = () => platform.clock.nowMs();
  const password = 'correct horse battery';

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 300 });
    baseUrl = await platform.app.listen({ host: '127.0.0.1', port: 0 });
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Corner Shop');
    await createPayee(platform.app, platform.operatorToken, 'cafe', 'Café Olé');
    const alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    phone = await TestTerminal.enroll(fetchTransport(baseUrl), now, alice.enrollmentUri, '4321');
  });
  afterAll(async () => {
    for (const reader of readers) await reader.close();
    await platform.dispose();
  });

  async function pay(amount: number, payeeId = 'shop'): Promise<string> {
    const answer = await call(platform.app, 'POST', '/v1/payments', {
      payerId: 'alice',
      password,
      payeeId,
      amount,
      currency: 'EUR',
      deliverTo: 'second_terminal',
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json().id;
  }

  async function connect(): Promise<Response> {
    const signed = await phone.sign('GET', '/v1/terminal/events');
    return fetch(`${baseUrl}${signed.path}`, { headers: signed.headers });
  }

  async function open(): Promise<EventReader> {
    const response = await connect();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const reader = new EventReader(response);
    readers.push(reader);
    return reader;
  }

  let stream: EventReader;

  it('sends the open challenges on connect, then each new one once, with amount and payee', async () => {
    const early = await pay(1250);
    stream = await open();
    const first = await stream.next();
    expect(first).toMatchObject({ event: 'challenge', id: early });
    expect(JSON.parse(first!.data)).toMatchObject({
      paymentId: early,
      amount: 1250,
      currency: 'EUR',
      payeeName: 'Corner Shop',
      firstCode: expect.stringMatching(/^[0-9]{8}$/),
    });
    const later = await pay(899, 'cafe');
    expect(await platform.services.deliveries.processDue()).toBeGreaterThanOrEqual(1);
    const pushed = await stream.next();
    expect(pushed?.event).toBe('challenge');
    expect(JSON.parse(pushed!.data)).toMatchObject({ paymentId: later, amount: 899, payeeName: 'Café Olé' });
    // The poll offers both again: the stream already has them, so nothing is sent twice.
    await platform.services.terminals.refreshStreams();
    expect(await stream.quietFor(300)).toBe(true);
  });

  it("delivers a challenge another server's outbox handled, through this server's poll", async () => {
    const paymentId = await pay(42);
    // No outbox pass here: as if another server had sent it to its own streams.
    expect(await platform.services.terminals.refreshStreams()).toBe(1);
    const event = await stream.next();
    expect(JSON.parse(event!.data)).toMatchObject({ paymentId, amount: 42 });
  });

  it('tells the terminal when a payment it was sent is closed', async () => {
    const paymentId = await pay(77);
    await platform.services.terminals.refreshStreams();
    const challenge = JSON.parse((await stream.next())!.data);
    const approved = await phone.call('POST', `/v1/terminal/payments/${paymentId}/approve`, {
      secondCode: await phone.secondCode(challenge.firstCode),
    });
    expect(approved.json().status).toBe('succeeded');
    await platform.services.terminals.refreshStreams();
    const closed = await stream.next();
    expect(closed).toMatchObject({ event: 'closed' });
    expect(JSON.parse(closed!.data)).toEqual({ paymentId });
  });

  it('allows three streams per terminal', async () => {
    await open();
    await open();
    const fourth = await connect();
    expect(fourth.status).toBe(429);
    expect((await fourth.json()).error.code).toBe('terminal_streams_exhausted');
  });

  it('ends the streams of a terminal revoked on another server at the next poll', async () => {
    await platform.test.database.query(`UPDATE terminals SET status = 'revoked' WHERE id = $1`, [phone.id]);
    await platform.services.terminals.refreshStreams();
    let event = await stream.next();
    while (event?.event === 'challenge' || event?.event === 'closed') event = await stream.next();
    expect(event).toMatchObject({ event: 'revoked' });
    expect(await stream.next()).toBeUndefined();
    expect(platform.services.terminalHub.streamCount()).toBe(0);
    const refused = await connect();
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe('terminal_revoked');
  });
});

describe.each(testEngines())('terminal revocation on %s', (engine) => {
  it('ends an open stream at once when the operator revokes the terminal', async () => {
    const platform = await startTestPlatform(engine);
    try {
      const baseUrl = await platform.app.listen({ host: '127.0.0.1', port: 0 });
      const created = await call(
        platform.app,
        'POST',
        '/v1/payers',
        { id: 'bob', password: 'correct horse battery', verificationCode: '1234' },
        { token: platform.operatorToken },
      );
      const now = () => platform.clock.nowMs();
      const phone = await TestTerminal.enroll(
        fetchTransport(baseUrl),
        now,
        created.json().terminal.enrollmentUri,
        '1234',
      );
      const signed = await phone.sign('GET', '/v1/terminal/events');
      const stream = new EventReader(await fetch(`${baseUrl}${signed.path}`, { headers: signed.headers }));
      expect(stream.response.status).toBe(200);
      while (platform.services.terminalHub.streamCount() === 0) await new Promise((r) => setTimeout(r, 10));
      const revoked = await call(platform.app, 'POST', `/v1/terminals/${phone.id}/revoke`, undefined, {
        token: platform.operatorToken,
      });
      expect(revoked.json().status).toBe('revoked');
      expect(await stream.next()).toMatchObject({ event: 'revoked' });
      expect(await stream.next()).toBeUndefined();
    } finally {
      await platform.dispose();
    }
  });
});
