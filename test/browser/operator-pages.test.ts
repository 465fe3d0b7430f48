// Proves in headless Chromium that an operator sets up an account with a TOTP key and signs in with password and code, unlocks a locked payer, books a deposit, verifies the ledger and reads audit log and outbox, that a viewer is refused a deposit, that signing out ends the session on the server, with forged forms refused and no secret rendered.

import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliActor } from '../../src/domain/operator.js';
import { base32Decode, totpAt, totpStep } from '../../src/domain/totp.js';
import { cookieNames } from '../../src/web/cookies.js';
import { basePagePolicy } from '../../src/web/csp.js';
import { call, createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { createTestOperator, nextOperatorCode } from '../support/operators.js';
import { type BrowserPlatform, screenshot, startBrowserPlatform } from './support/browser-platform.js';

describe.each(testEngines())('operator console on %s', (engine) => {
  let platform: BrowserPlatform;
  let alice: TestPayer;
  let context: BrowserContext;
  let page: Page;

  /**
   * Payments spread over the last half hour (the manual clock moves between them), so that the dashboard,
   * ledger and outbox have something to show: ten payments, nine approved, one wrong code, one still open.
   */
  async function seedPayments() {
    const pay = (deliverTo: string, amount: number) =>
      call(platform.app, 'POST', '/v1/payments', {
        payerId: alice.id,
        password: alice.password,
        payeeId: 'corner-shop',
        amount,
        currency: 'EUR',
        deliverTo,
      });
    for (const [index, minutes] of [0, 2, 3, 3, 3, 4, 3, 3, 3].entries()) {
      platform.clock.advance(minutes * 60_000);
      const created = (await pay('first_terminal', index === 0 ? 1_250 : 100)).json();
      if (index === 0) {
        const wrong = await call(platform.app, 'POST', `/v1/payments/${created.id}/approve`, {
          secondCode: '000000',
        });
        expect(wrong.statusCode).toBe(401);
      }
      const secondCode = await secondCodeFor(alice, created.firstCode);
      const approved = await call(platform.app, 'POST', `/v1/payments/${created.id}/approve`, { secondCode });
      expect(approved.statusCode).toBe(200);
    }
    platform.clock.advance(2 * 60_000);
    expect((await pay('second_terminal', 300)).statusCode).toBe(201);
  }

  const lockState = async (payerId: string) =>
    (
      await platform.test.database.query<{ locked_until_ms: bigint | null; consecutive_failures: number }>(
        'SELECT locked_until_ms, consecutive_failures FROM authentication_failures WHERE subject = $1',
        [payerId],
      )
    )[0];

  beforeAll(async () => {
    platform = await startBrowserPlatform(engine);
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 10_000);
    await createFundedPayer(platform.app, platform.operatorToken, 'bob', 5_000);
    await createPayee(platform.app, platform.operatorToken, 'corner-shop', 'Corner Shop');
    await seedPayments();
    for (let attempt = 0; attempt < 5; attempt += 1) {
      await call(platform.app, 'POST', '/v1/sessions', { payerId: 'bob', password: 'wrong password' });
    }
    ({ context, page } = await platform.newPage());
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  it('sets up an admin in the browser, refuses a wrong code, then signs in with password and TOTP', async () => {
    const created = await platform.services.operators.create({ name: 'ada', role: 'admin' }, cliActor);
    const password = 'ada long password';
    await page.goto('/operator');
    expect(new URL(page.url()).pathname).toBe('/operator/signin');
    await page.getByRole('link', { name: 'Set up a new operator account' }).click();
    await page.getByLabel('Name').fill('ada');
    await page.getByLabel('Set-up code').fill(created.setupCode);
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('figure.qr svg').count()).toBe(1);
    const key = base32Decode((await page.getByTestId('totp-key').textContent()) ?? '');
    expect(key).toHaveLength(20);
    const nextCode = () => {
      platform.clock.advance(30_000);
      return totpAt(key, totpStep(platform.clock.nowMs()));
    };
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Code').fill(await nextCode());
    await page.getByRole('button', { name: 'Finish set-up' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('Your account is set up');

    await page.getByLabel('Name').fill('ada');
    await page.getByLabel('Password').fill(password);
    const right = await nextCode();
    await page.getByLabel('Code').fill(String((Number(right) + 1) % 1_000_000).padStart(6, '0'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').first().textContent()).toContain(
      'The name, password or code is not correct',
    );
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Code').fill(await nextCode());
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${platform.baseUrl}/operator`);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('Signed in as ada (admin)');
    const cookies = await context.cookies();
    for (const cookie of cookies) {
      expect(cookie, cookie.name).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/',
      });
      expect(cookie.value).not.toContain(password);
    }
    expect(cookies.map((cookie) => cookie.name)).toContain(cookieNames.operatorSession);
    expect(await page.content()).not.toContain(password);
    expect(await page.content()).not.toContain(created.setupCode);
  });

  it('shows the dashboard with its chart and counts', async () => {
    expect(await page.getByTestId('payments-recent').textContent()).toBe('10');
    expect(await page.getByTestId('approval-success-rate').textContent()).toBe('90.0 %');
    expect(await page.getByTestId('approval-failure-rate').textContent()).toBe('10.0 %');
    expect(await page.getByTestId('open-holds').textContent()).toBe('1');
    expect(await page.getByTestId('locked-payers').textContent()).toBe('1');
    expect(await page.locator('svg#payments-per-minute rect.bar').count()).toBe(30);
    await screenshot(page, 'operator-dashboard');
  });

  it('refuses an unlock posted without the CSRF token and changes nothing', async () => {
    const before = await lockState('bob');
    expect(before?.locked_until_ms).not.toBeNull();
    const response = await page.request.post('/operator/payers/bob/unlock', { form: {}, maxRedirects: 0 });
    expect(response.status()).toBe(403);
    expect(await lockState('bob')).toEqual(before);
  });

  it('unlocks a locked payer, who can then sign in again', async () => {
    await page.getByRole('link', { name: 'Payers' }).click();
    await page.getByLabel('Payer id starts with').fill('bo');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'bob' }).click();
    expect(await page.getByTestId('lock-state').textContent()).toContain('locked');
    await page.getByRole('button', { name: 'Unlock payer' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('The payer is unlocked');
    expect(await page.getByTestId('lock-state').textContent()).toContain('active');
    const signIn = await call(platform.app, 'POST', '/v1/sessions', {
      payerId: 'bob',
      password: 'correct horse battery',
    });
    expect(signIn.statusCode).toBe(201);
  });

  it('books a deposit typed in major units', async () => {
    await page.goto('/operator/payers/alice');
    const before = await page.getByTestId('payer-available-EUR').textContent();
    expect(before).toBe('76.50 EUR');
    await page.getByLabel('Amount').fill('25.05');
    await page.getByRole('button', { name: 'Deposit' }).click();
    expect(await page.getByRole('status').first().textContent()).toContain('The deposit is booked');
    expect(await page.getByTestId('payer-available-EUR').textContent()).toBe('101.55 EUR');
  });

  it('creates a payer, shows its terminal key once and never the password typed', async () => {
    await page.goto('/operator/payers');
    await page.getByLabel('Payer id', { exact: false }).last().fill('carol');
    await page.getByLabel('Password', { exact: false }).fill('carol password 1');
    await page.getByLabel('Verification code', { exact: false }).fill('2468');
    await page.getByRole('button', { name: 'Create payer' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Payer carol created');
    const key = (await page.getByTestId('terminal-key').textContent()) ?? '';
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    const content = await page.content();
    expect(content).not.toContain('carol password 1');
    expect(content).not.toContain('2468');
    await page.goto('/operator/payers/carol');
    expect(await page.content()).not.toContain(key);
  });

  it('creates a payer without an OCRA terminal: no key shown, no terminal stored', async () => {
    await page.goto('/operator/payers');
    await page.getByLabel('Payer id', { exact: false }).last().fill('dave');
    await page.getByLabel('Password', { exact: false }).fill('dave password 1');
    await page.getByLabel('Verification code', { exact: false }).fill('1357');
    await page.getByLabel('None for now', { exact: false }).check();
    await page.getByRole('button', { name: 'Create payer' }).click();
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Payer dave created');
    expect(await page.getByTestId('no-terminal').textContent()).toContain('add a passkey');
    expect(await page.getByTestId('terminal-key').count()).toBe(0);
    const terminals = await call(platform.app, 'GET', '/v1/payers/dave/terminals', undefined, {
      token: platform.operatorToken,
    });
    expect(terminals.json().data).toEqual([]);
  });

  it('verifies the ledger and shows every invariant with the totals', async () => {
    await page.getByRole('link', { name: 'Verify ledger' }).click();
    await page.getByRole('button', { name: 'Verify ledger' }).click();
    expect(await page.getByTestId('ledger-result').textContent()).toContain('all invariants hold');
    expect(await page.locator('td', { hasText: 'debits equal credits per currency (posted)' }).count()).toBe(
      1,
    );
    expect(await page.locator('text=broken').count()).toBe(0);
    await screenshot(page, 'operator-ledger-verify');
  });

  it('browses accounts and transfers with filters', async () => {
    await page.goto('/operator/ledger/accounts?kind=payer&owner=ali');
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.locator('tbody tr a').first().click();
    expect(new URL(page.url()).pathname).toBe('/operator/ledger/transfers');
    const rows = await page.locator('tbody tr').count();
    // Two deposits, ten holds and nine posts.
    expect(rows).toBe(21);
    await page.getByLabel('Kind').selectOption('pending');
    await page.getByRole('button', { name: 'Filter' }).click();
    expect(await page.locator('tbody tr').count()).toBe(10);
  });

  it('downloads an export of the transfers through the form, with the console session', async () => {
    await page.goto('/operator/ledger/transfers');
    const day = (offset: number) =>
      new Date(platform.clock.nowMs() + offset * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('What').selectOption('transfers');
    await page.getByLabel('From (UTC, inclusive)').fill(day(-1));
    await page.getByLabel('To (UTC, exclusive)').fill(day(2));
    await page.getByLabel('Format').selectOption('csv');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`countersign-transfers-${day(-1)}-${day(2)}.csv`);
    const text = await readFile((await download.path()) as string, 'utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toMatch(/^id,created_at,kind,/);
    const [{ count }] = (await platform.test.database.query<{ count: bigint }>(
      'SELECT count(*)::bigint AS count FROM transfers',
    )) as [{ count: bigint }];
    expect(BigInt(lines.length - 2)).toBe(count);
    // Without the console session, the same address downloads nothing.
    const anonymous = await fetch(
      `${platform.baseUrl}/operator/ledger/export?kind=transfers&from=${day(-1)}&to=${day(2)}`,
      {
        redirect: 'manual',
      },
    );
    expect(anonymous.status).not.toBe(200);
    expect(await anonymous.text()).not.toContain('created_at');
  });

  it('shows the audit log newest first with an intact chain, and the outbox without codes', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    expect(await page.getByTestId('chain-status').textContent()).toContain('chain intact');
    const positions = await page.locator('tbody tr td:first-child').allTextContents();
    expect(positions.length).toBeGreaterThan(5);
    expect(Number(positions[0])).toBeGreaterThan(Number(positions[positions.length - 1]));
    await page.getByRole('link', { name: 'Outbox' }).click();
    expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('tbody').textContent()).toContain('second_terminal');
    // The first code travels sealed in the outbox row; it must not appear on the page.
    const [delivery] = await platform.test.database.query<{ id: string; payload_sealed: string }>(
      `SELECT id, payload_sealed FROM deliveries WHERE channel = 'second_terminal'`,
    );
    const payload = platform.services.deps.secrets.box.open(
      delivery!.payload_sealed,
      `delivery:${delivery!.id}`,
    );
    const { firstCode } = JSON.parse(payload.toString('utf8')) as { firstCode: string };
    expect(firstCode).toMatch(/^[0-9]{8}$/);
    expect(await page.content()).not.toContain(firstCode);
  });

  it('records the signed-in operator in the audit entries of what it did', async () => {
    const [ada] = (await platform.services.operators.list(cliActor)).filter((entry) => entry.name === 'ada');
    const entries = await platform.services.audit.list({ limit: 100 });
    const deposit = entries.find((entry) => entry.event === 'deposit_created' && entry.subject === 'alice');
    expect(deposit?.detail['actor']).toBe(`operator:${ada?.id}`);
    const unlock = entries.find((entry) => entry.event === 'payer_unlocked' && entry.subject === 'bob');
    expect(unlock?.detail['actor']).toBe(`operator:${ada?.id}`);
  });

  it('refuses a deposit to a viewer and changes nothing; signing out ends the session on the server', async () => {
    const viewer = await createTestOperator(platform.services.operators, platform.clock, 'vic', 'viewer');
    const { context: viewerContext, page: viewerPage } = await platform.newPage();
    await viewerPage.goto('/operator/signin');
    await viewerPage.getByLabel('Name').fill(viewer.name);
    await viewerPage.getByLabel('Password').fill(viewer.password);
    await viewerPage.getByLabel('Code').fill(await nextOperatorCode(viewer, platform.clock));
    await viewerPage.getByRole('button', { name: 'Sign in' }).click();
    await viewerPage.waitForURL(`${platform.baseUrl}/operator`);

    await viewerPage.goto('/operator/payers/alice');
    const before = await viewerPage.getByTestId('payer-available-EUR').textContent();
    await viewerPage.getByLabel('Amount').fill('1000.00');
    await viewerPage.getByRole('button', { name: 'Deposit' }).click();
    expect(await viewerPage.getByRole('alert').first().textContent()).toContain(
      'You are not allowed to do this',
    );
    await viewerPage.goto('/operator/payers/alice');
    expect(await viewerPage.getByTestId('payer-available-EUR').textContent()).toBe(before);

    const [session] = (await viewerContext.cookies()).filter(
      (cookie) => cookie.name === cookieNames.operatorSession,
    );
    expect(session).toBeDefined();
    await viewerPage.getByRole('button', { name: 'Sign out' }).click();
    expect(await viewerPage.getByRole('status').first().textContent()).toContain('You are signed out');
    // The old cookie, put back as a thief would, gets the sign-in page.
    await viewerContext.addCookies([session!]);
    await viewerPage.goto('/operator/payers');
    expect(new URL(viewerPage.url()).pathname).toBe('/operator/signin');
    await viewerContext.close();
  });

  it('sends the Content-Security-Policy on every console page', async () => {
    for (const path of [
      '/operator',
      '/operator/payers',
      '/operator/payers/alice',
      '/operator/payees',
      '/operator/payees/corner-shop',
      '/operator/ledger/accounts',
      '/operator/ledger/transfers',
      '/operator/ledger/verify',
      '/operator/audit',
      '/operator/outbox',
      '/operator/operators',
    ]) {
      const response = await page.request.get(path, { maxRedirects: 0 });
      expect(response.status(), path).toBe(200);
      expect(response.headers()['content-security-policy'], path).toContain(basePagePolicy);
    }
  });
});
