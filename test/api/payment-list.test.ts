// Proves on both engines that a payer's session lists exactly the payer's own payments, newest first (by id within one millisecond), page by page without gaps or repeats, and that signing out ends the session at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createFundedPayer, createPayee, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe.each(testEngines())('listing payments on %s', (engine) => {
  let platform: TestPlatform;
  let alice: TestPayer;
  let token: string;
  /** Alice's payment ids in creation order. */
  const created: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
    const bob = await createFundedPayer(platform.app, platform.operatorToken, 'bob', 10_000);
    await createPayee(platform.app, platform.operatorToken, 'shop');
    token = (
      await call(platform.app, 'POST', '/v1/sessions', { payerId: alice.id, password: alice.password })
    ).json().token;
    const bobToken = (
      await call(platform.app, 'POST', '/v1/sessions', { payerId: bob.id, password: bob.password })
    ).json().token;
    const pay = async (sessionToken: string, amount: number) => {
      const response = await call(
        platform.app,
        'POST',
        '/v1/payments',
        { payeeId: 'shop', amount, currency: 'EUR', deliverTo: 'first_terminal' },
        { token: sessionToken },
      );
      expect(response.statusCode, response.body).toBe(201);
      return response.json().id as string;
    };
    // Seven payments, the first three in one millisecond (the clock stands still), bob's in between.
    for (let index = 0; index < 7; index++) {
      created.push(await pay(token, 10 + index));
      await pay(bobToken, 1);
      if (index >= 2) platform.clock.advance(1);
    }
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const list = (query: string, sessionToken = token) =>
    call(platform.app, 'GET', `/v1/payments${query}`, undefined, { token: sessionToken });

  /** The order the API promises: newest first, and within one millisecond by id, descending. */
  let newestFirst: string[];

  it('lists the payer’s own payments, newest first, 10 by default', async () => {
    const response = await list('');
    expect(response.statusCode, response.body).toBe(200);
    const page = response.json() as {
      data: { id: string; payerId: string; createdAt: string; firstCode?: string }[];
      hasMore: boolean;
    };
    expect(page.hasMore).toBe(false);
    expect(page.data.map((payment) => payment.id).sort()).toEqual([...created].sort());
    const keys = page.data.map((payment) => [Date.parse(payment.createdAt), payment.id] as const);
    const sorted = [...keys].sort(
      ([aMs, aId], [bMs, bId]) => bMs - aMs || (aId < bId ? 1 : aId > bId ? -1 : 0),
    );
    expect(keys).toEqual(sorted);
    // Payments made later come first: the oldest three share one millisecond, the others do not.
    expect(page.data.slice(0, 4).map((payment) => payment.id)).toEqual(created.slice(3).reverse());
    for (const payment of page.data) {
      expect(payment.payerId).toBe('alice');
      expect(payment.firstCode).toBeUndefined();
    }
    newestFirst = page.data.map((payment) => payment.id);
  });

  it.each([1, 2, 3, 7])('pages through all of them with limit %i, each once, in order', async (limit) => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages <= created.length; pages++) {
      const response = await list(
        `?limit=${limit}${cursor === undefined ? '' : `&starting_after=${cursor}`}`,
      );
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { data: { id: string }[]; hasMore: boolean };
      expect(page.data.length).toBeLessThanOrEqual(limit);
      seen.push(...page.data.map((payment) => payment.id));
      if (!page.hasMore) break;
      cursor = page.data.at(-1)!.id;
    }
    expect(seen).toEqual(newestFirst);
  });

  it('answers an empty last page after the oldest payment', async () => {
    const response = await list(`?starting_after=${newestFirst.at(-1)}`);
    expect(response.json()).toEqual({ object: 'list', data: [], hasMore: false });
  });

  it('ends the session at once on sign-out', async () => {
    const session = (
      await call(platform.app, 'POST', '/v1/sessions', { payerId: alice.id, password: alice.password })
    ).json().token as string;
    expect((await list('?limit=1', session)).statusCode).toBe(200);
    const revoked = await call(platform.app, 'POST', '/v1/sessions/current/revoke', undefined, {
      token: session,
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toEqual({ object: 'session', revoked: true });
    const after = await list('?limit=1', session);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('authentication_required');
    expect(
      (await call(platform.app, 'POST', '/v1/sessions/current/revoke', undefined, { token: session }))
        .statusCode,
    ).toBe(401);
    // Other sessions of the payer live on.
    expect((await list('?limit=1')).statusCode).toBe(200);
  });
});
