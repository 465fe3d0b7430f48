// Proves over inject, on both engines, that page forms need a CSRF token bound to their session and area, that cookies and timeouts hold, that page sign-in locks like the API, and that no refused request changes anything.

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenActor } from '../../src/domain/operator.js';
import { cookieNames } from '../../src/web/cookies.js';
import { call, createFundedPayer, createPayee, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { createTestOperator, nextOperatorCode } from '../support/operators.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';

/** A cookie jar and form helper for one simulated browser. */
class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: FastifyInstance) {}

  private remember(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies as { name: string; value: string; maxAge?: number }[]) {
      if (cookie.value === '' || cookie.maxAge === 0) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader() } });
    this.remember(response);
    return response;
  }

  async post(
    url: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: this.cookieHeader(),
        ...headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
    this.remember(response);
    return response;
  }

  /** The CSRF token of the first form of a page. */
  async tokenOf(url: string): Promise<string> {
    const page = await this.get(url);
    const match = /name="_csrf" value="([0-9a-f]{64})"/.exec(page.body);
    if (match === null)
      throw new Error(`no CSRF token on ${url}: ${page.statusCode} ${page.body.slice(0, 200)}`);
    return match[1]!;
  }
}

describe.each(testEngines())('page security on %s', (engine) => {
  let platform: TestPlatform;
  let alice: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
    await createFundedPayer(platform.app, platform.operatorToken, 'dave', 1_000);
    await createPayee(platform.app, platform.operatorToken, 'corner-shop');
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  const counts = async () =>
    (
      await platform.test.database.query<{ payments: bigint; transfers: bigint; audit: bigint }>(
        `SELECT (SELECT count(*) FROM payments) AS payments, (SELECT count(*) FROM transfers) AS transfers,
           (SELECT count(*) FROM audit_log) AS audit`,
      )
    )[0];

  async function signedIn(payer: TestPayer = alice): Promise<Browser> {
    const browser = new Browser(platform.app);
    const token = await browser.tokenOf('/signin');
    const response = await browser.post('/signin', {
      _csrf: token,
      payerId: payer.id,
      password: payer.password,
    });
    expect(response.statusCode, response.body).toBe(303);
    return browser;
  }

  const payForm = (csrf: string | undefined, formKey: string) => ({
    ...(csrf === undefined ? {} : { _csrf: csrf }),
    payeeId: 'corner-shop',
    amount: '1.00',
    currency: 'EUR',
    deliverTo: 'first_terminal',
    formKey,
  });

  it('sets the session cookie HttpOnly, Secure, SameSite=Strict with the __Host- prefix', async () => {
    const browser = new Browser(platform.app);
    const page = await browser.get('/signin');
    expect(page.headers['set-cookie']).toMatch(
      /^__Host-cs_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    const token = /name="_csrf" value="([0-9a-f]{64})"/.exec(page.body)![1]!;
    const response = await browser.post('/signin', {
      _csrf: token,
      payerId: alice.id,
      password: alice.password,
    });
    expect(response.statusCode).toBe(303);
    expect(response.headers['location']).toBe('/');
    expect(response.headers['set-cookie']).toMatch(
      /^__Host-cs_payer=cs_sess_[A-Za-z0-9_-]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(response.headers['content-security-policy']).toContain("form-action 'self'");
  });

  it('refuses a missing, foreign, stale or cross-site token with 403 and changes nothing', async () => {
    const browser = await signedIn();
    const before = await counts();
    const staleBrowser = new Browser(platform.app);
    const staleToken = await staleBrowser.tokenOf('/signin');
    const operatorBrowser = new Browser(platform.app);
    const operatorToken = await operatorBrowser.tokenOf('/operator/signin');
    // The same CSRF cookie in both areas: only the area in the HMAC tells them apart.
    browser.cookies.set(cookieNames.csrf, operatorBrowser.cookies.get(cookieNames.csrf)!);
    const valid = await browser.tokenOf('/pay');
    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['missing', payForm(undefined, 'k'.repeat(20)), {}],
      ['forged', payForm('0'.repeat(64), 'k'.repeat(20)), {}],
      ['operator area', payForm(operatorToken, 'k'.repeat(20)), {}],
      ['before sign-in', payForm(staleToken, 'k'.repeat(20)), {}],
      ['cross-site', payForm(valid, 'k'.repeat(20)), { 'sec-fetch-site': 'cross-site' }],
    ];
    for (const [name, form, headers] of attempts) {
      const response = await browser.post('/pay', form, headers);
      expect(response.statusCode, name).toBe(403);
      expect(response.headers['content-type'], name).toContain('text/html');
      expect(response.body, name).toContain('This form has expired or did not come from this site');
    }
    expect(await counts()).toEqual(before);
    const accepted = await browser.post('/pay', payForm(valid, 'k'.repeat(20)));
    expect(accepted.statusCode, accepted.body).toBe(201);
    // The same form submitted again finds the same payment instead of paying twice.
    const again = await browser.post('/pay', payForm(valid, 'k'.repeat(20)));
    expect(again.statusCode).toBe(201);
    expect((await counts())!.payments).toBe(before!.payments + 1n);
  });

  it('ends an idle payer session after 5 minutes and sends the browser to sign in', async () => {
    const browser = await signedIn();
    expect((await browser.get('/')).statusCode).toBe(200);
    platform.clock.advance(5 * 60 * 1000);
    const response = await browser.get('/');
    expect(response.statusCode).toBe(303);
    expect(response.headers['location']).toBe('/signin?notice=expired');
    expect(String(response.headers['set-cookie'])).toMatch(/__Host-cs_payer=; Max-Age=0/);
    // The keep-alive of the idle script answers JSON, never a redirect.
    const keepalive = await browser.get('/session/keepalive');
    expect(keepalive.statusCode).toBe(401);
    expect(keepalive.json()).toEqual({ secondsLeft: 0 });
  });

  it('locks page sign-in after 5 failures exactly like the API, without naming the factor', async () => {
    const browser = new Browser(platform.app);
    const bodies = new Set<string>();
    for (const payerId of ['dave', 'dave', 'dave', 'dave', 'dave']) {
      const token = await browser.tokenOf('/signin');
      const response = await browser.post('/signin', { _csrf: token, payerId, password: 'wrong password' });
      expect(response.statusCode).toBe(401);
      bodies.add(/<div class="error" role="alert">([^<]*)</.exec(response.body)![1]!);
    }
    const unknown = await browser.post('/signin', {
      _csrf: await browser.tokenOf('/signin'),
      payerId: 'nobody-here',
      password: 'x',
    });
    bodies.add(/<div class="error" role="alert">([^<]*)</.exec(unknown.body)![1]!);
    expect([...bodies]).toEqual(['The id or the password is not correct. Check both and try again.']);
    const locked = await browser.post('/signin', {
      _csrf: await browser.tokenOf('/signin'),
      payerId: 'dave',
      password: 'correct horse battery',
    });
    expect(locked.statusCode).toBe(423);
    expect(locked.body).toContain('locked after too many failed attempts');
    expect(locked.headers['set-cookie'] ?? '').not.toContain(cookieNames.payerSession);
    const api = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: 'dave',
      password: 'correct horse battery',
    });
    expect(api.statusCode).toBe(423);
    await platform.services.authentication.unlock('dave', tokenActor);
  });

  it('answers a wrong first code and a wrong verification code with the same message', async () => {
    const browser = await signedIn();
    const created = await browser.post('/pay', payForm(await browser.tokenOf('/pay'), 'm'.repeat(20)));
    const firstCode = /data-testid="first-code">([0-9]{8})</.exec(created.body)![1]!;
    const paymentId = /action="\/payments\/([0-9a-f-]{36})\/approve"/.exec(created.body)![1]!;
    const otherFirst = firstCode === '12345678' ? '87654321' : '12345678';
    const messages: string[] = [];
    for (const form of [
      { firstCode: otherFirst, verificationCode: alice.verificationCode },
      { firstCode, verificationCode: '9999' },
    ]) {
      const token = await browser.tokenOf(`/payments/${paymentId}`);
      const response = await browser.post(`/payments/${paymentId}/approve`, { _csrf: token, ...form });
      expect(response.statusCode).toBe(401);
      messages.push(/id="approval-error">([^<]*)</.exec(response.body)![1]!);
      expect(response.body).not.toContain(firstCode);
    }
    expect(messages[0]).toBe(messages[1]);
    expect(messages[0]).toContain('These codes do not approve this payment');
    await platform.services.authentication.unlock(alice.id, tokenActor);
  });

  it('refuses forged, ended and idle operator sessions, and lets the JSON API refuse form bodies', async () => {
    const operator = await createTestOperator(platform.services.operators, platform.clock, 'ops', 'viewer');
    const browser = new Browser(platform.app);
    browser.cookies.set(cookieNames.operatorSession, `cs_opsess_${'A'.repeat(43)}`);
    const forged = await browser.get('/operator');
    expect(forged.statusCode).toBe(303);
    expect(forged.headers['location']).toBe('/operator/signin?notice=expired');
    const signIn = async () => {
      const token = await browser.tokenOf('/operator/signin');
      const code = await nextOperatorCode(operator, platform.clock);
      const answer = await browser.post('/operator/signin', {
        _csrf: token,
        name: operator.name,
        password: operator.password,
        code,
      });
      expect(answer.statusCode).toBe(303);
      return browser.cookies.get(cookieNames.operatorSession)!;
    };
    // Signing out ends the session on the server: the old cookie, sent again, opens nothing.
    const first = await signIn();
    expect((await browser.get('/operator')).statusCode).toBe(200);
    const signOutToken = await browser.tokenOf('/operator');
    expect((await browser.post('/operator/signout', { _csrf: signOutToken })).statusCode).toBe(303);
    browser.cookies.set(cookieNames.operatorSession, first);
    const replayed = await browser.get('/operator/payers');
    expect(replayed.statusCode).toBe(303);
    expect(replayed.headers['location']).toBe('/operator/signin?notice=expired');
    browser.cookies.delete(cookieNames.operatorSession);
    await signIn();
    expect((await browser.get('/operator')).statusCode).toBe(200);
    platform.clock.advance(15 * 60 * 1000);
    const idle = await browser.get('/operator/payers');
    expect(idle.statusCode).toBe(303);
    expect(idle.headers['location']).toBe('/operator/signin?notice=expired');
    const formToApi = await platform.app.inject({
      method: 'POST',
      url: '/v1/payees',
      headers: {
        authorization: `Bearer ${platform.operatorToken}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'id=sneaky&name=Sneaky',
    });
    expect(formToApi.statusCode).toBe(415);
  });

  it('refuses a NUL character in any form field with 400 before the page reads it, changing nothing', async () => {
    const browser = new Browser(platform.app);
    const token = await browser.tokenOf('/signin');
    const before = await snapshotTables(platform.test.database);
    const forms: Record<string, string>[] = [
      { _csrf: token, payerId: 'alice\u0000', password: alice.password },
      { _csrf: token, payerId: alice.id, password: `${alice.password}\u0000` },
      { _csrf: token, payerId: alice.id, password: alice.password, 'note\u0000': 'x' },
    ];
    for (const form of forms) {
      const response = await browser.post('/signin', form);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('text/html');
      expect(response.headers['set-cookie'] ?? '').not.toContain(cookieNames.payerSession);
    }
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('refuses an oversized form body with an HTML page, and treats an overlong field as missing', async () => {
    const browser = new Browser(platform.app);
    const token = await browser.tokenOf('/signin');
    const big = await browser.post('/signin', { _csrf: token, payerId: 'alice', password: 'x'.repeat(9000) });
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toContain('text/html');
    const long = await browser.post('/signin', {
      _csrf: token,
      payerId: alice.id,
      password: 'y'.repeat(600),
    });
    expect(long.statusCode).toBe(401);
    expect(long.body).not.toContain('y'.repeat(600));
    await platform.services.authentication.unlock(alice.id, tokenActor);
  });
});
