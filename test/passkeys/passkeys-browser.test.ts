// Proves in headless Chromium, with the DevTools protocol's virtual authenticator, that a payer adds a passkey and approves a payment with it, and that assertions for another payment, for other amounts, replayed, from a revoked passkey or fired concurrently never approve, each counted under the attempt limits.

import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { COSEALG, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import type { BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountersignError } from '../../src/domain/errors.js';
import { approvalChallenge } from '../../src/services/passkeys/passkey-service.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { createPlatformServices } from '../../src/wiring/platform-services.js';
import { sqlPlatformStores } from '../../src/wiring/sql-stores.js';
import {
  type BrowserPlatform,
  screenshot,
  startBrowserPlatform,
} from '../browser/support/browser-platform.js';
import { createMerchant, createRequest, merchantCall } from '../merchant/merchant-support.js';
import { call, createFundedPayer, createPayee, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';

/** An assertion as the page script posts it. */
interface Ceremony {
  readonly challengeId: string;
  readonly response: Record<string, unknown>;
}

describe.each(testEngines())('passkeys as second terminals on %s', (engine) => {
  let platform: BrowserPlatform;
  let alice: TestPayer;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;

  /** A virtual platform authenticator: CTAP2, internal, discoverable keys, user verification that succeeds. */
  async function addAuthenticator(): Promise<string> {
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return added.authenticatorId;
  }

  beforeAll(async () => {
    platform = await startBrowserPlatform(engine, { localhost: true });
    alice = await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    await createPayee(platform.app, platform.operatorToken, 'corner-shop', 'Corner Shop');
    ({ context, page } = await platform.newPage());
    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    authenticatorId = await addAuthenticator();
    await page.goto('/signin');
    await page.getByLabel('Payer id').fill(alice.id);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${platform.baseUrl}/`);
  }, 60_000);
  afterAll(async () => {
    await platform?.dispose();
  });

  const query = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    platform.test.database.query<T>(sql, params);
  const paymentRow = async (id: string) =>
    (
      await query<{ status: string; failed_approvals: number }>(
        'SELECT status, failed_approvals FROM payments WHERE id = $1',
        [id],
      )
    )[0]!;

  /** Creates a payment through the "pay" form and answers its id. */
  async function pay(amount: string): Promise<string> {
    await page.goto('/pay');
    await page.getByLabel('Payee id').fill('corner-shop');
    await page.getByLabel('Amount').fill(amount);
    await page.getByRole('button', { name: 'Continue' }).click();
    const action = await page.locator('#passkey-approve-form').getAttribute('action');
    const id = /\/payments\/([0-9a-f-]{36})\/approve/.exec(action ?? '')?.[1];
    if (id === undefined) throw new Error('no payment id on the approval page');
    return id;
  }

  /** Options for `paymentId` and the virtual authenticator's assertion, made in the page, not submitted. */
  async function assertionFor(paymentId: string, challengeOverride?: string): Promise<Ceremony> {
    return page.evaluate(
      async ({ paymentId, challengeOverride }) => {
        const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
        const answer = await fetch(`/payments/${paymentId}/passkey-options`, {
          method: 'POST',
          body: new URLSearchParams({ _csrf: csrf }),
        });
        const { challengeId, options } = await answer.json();
        if (challengeOverride !== undefined) options.challenge = challengeOverride;
        const library = (
          globalThis as unknown as {
            SimpleWebAuthnBrowser: {
              startAuthentication(input: { optionsJSON: unknown }): Promise<Record<string, unknown>>;
            };
          }
        ).SimpleWebAuthnBrowser;
        const response = await library.startAuthentication({ optionsJSON: options });
        return { challengeId, response };
      },
      { paymentId, challengeOverride },
    );
  }

  /**
   * Posts an assertion to the approve form of `paymentId`, as the page script does. Answers `approved` or
   * `not_approvable` (the notices the form redirects to), or the HTTP status of a refusal (401, 423).
   */
  async function submit(paymentId: string, ceremony: Ceremony): Promise<string> {
    return page.evaluate(
      async ({ paymentId, ceremony }) => {
        const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
        const answer = await fetch(`/payments/${paymentId}/approve`, {
          method: 'POST',
          body: new URLSearchParams({
            _csrf: csrf,
            passkeyChallengeId: ceremony.challengeId,
            passkeyResponse: JSON.stringify(ceremony.response),
          }),
        });
        if (!answer.redirected) return String(answer.status);
        return new URL(answer.url).searchParams.get('notice') ?? answer.url;
      },
      { paymentId, ceremony },
    );
  }

  it('adds a passkey from the terminals page; the platform keeps its public key, counter and AAGUID only', async () => {
    await page.goto('/terminals');
    await page.getByLabel('Name of the passkey').fill('my laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(/\/terminals\?notice=passkey_added$/);
    expect(await page.getByRole('row', { name: /my laptop/ }).textContent()).toContain('passkey');
    await screenshot(page, `passkey-terminals-${engine}`);
    const rows = await query<Record<string, unknown>>('SELECT * FROM passkeys');
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!).sort()).toEqual(
      [
        'aaguid',
        'created_at_ms',
        'credential_id',
        'id',
        'label',
        'last_used_at_ms',
        'payer_id',
        'public_key',
        'revoked_at_ms',
        'sign_count',
        'status',
        'transports',
      ].sort(),
    );
    // ES256, whatever Node.js runs the server: Chromium's authenticator takes the first algorithm offered
    // that it has, and on Node.js 24 the library alone would have offered ML-DSA-44 first.
    const publicKey = decodeCredentialPublicKey(Buffer.from(String(rows[0]!['public_key']), 'base64url'));
    expect(publicKey.get(3)).toBe(COSEALG.ES256);
    const listed = await call(platform.app, 'GET', `/v1/payers/${alice.id}/terminals`, undefined, {
      token: platform.operatorToken,
    });
    const kinds = (listed.json().data as { kind: string }[]).map((terminal) => terminal.kind);
    expect(kinds.sort()).toEqual(['ocra', 'passkey']);
  });

  it('refuses a registration answer without a challenge it was issued, and stores nothing', async () => {
    const before = await query('SELECT id FROM passkeys');
    const status = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const answer = await fetch('/passkeys', {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrf, challengeId: crypto.randomUUID(), response: '{}' }),
        redirect: 'manual',
      });
      return answer.status;
    });
    expect(status).toBe(400);
    expect(await query('SELECT id FROM passkeys')).toEqual(before);
  });

  it('approves a payment with the passkey on its page: the payee is paid', async () => {
    const paymentId = await pay('12.50');
    await page.getByRole('button', { name: 'Approve with a passkey' }).click();
    await page.waitForURL(/\?notice=approved$/);
    expect(await paymentRow(paymentId)).toEqual({ status: 'succeeded', failed_approvals: 0 });
    const posted = await query<{ n: bigint }>(
      "SELECT count(*) AS n FROM transfers WHERE kind = 'post' AND pending_id = (SELECT hold_transfer_id FROM payments WHERE id = $1)",
      [paymentId],
    );
    expect(Number(posted[0]!.n)).toBe(1);
  });

  it('approves a merchant checkout with the passkey after sign-in: the request is paid', async () => {
    const shop = await createMerchant(platform.app, platform.operatorToken, 'corner-cafe', {
      name: 'Corner Café',
    });
    const request = await createRequest(platform.app, shop, 480, { reference: 'order-2001' });
    // The same page: the virtual authenticator belongs to its DevTools session.
    const checkout = page;
    await checkout.goto(`/checkout/${request.id}`);
    expect(await checkout.locator('script').count()).toBe(0);
    await checkout.getByLabel('Your payer id').fill(alice.id);
    await checkout.getByLabel('Password').fill(alice.password);
    await checkout.getByLabel('Show it here').check();
    await checkout.getByRole('button', { name: 'Sign in and pay' }).click();
    await checkout.getByRole('button', { name: 'Approve with a passkey' }).click();
    await checkout.getByTestId('outcome').waitFor();
    expect(await checkout.getByTestId('outcome').textContent()).toContain('has been paid');
    const status = (
      await merchantCall(platform.app, shop, 'GET', `/v1/payment-requests/${request.id}`)
    ).json().status;
    expect(status).toBe('paid');
  });

  it('refuses an assertion made for payment A on payment B, and counts it on B', async () => {
    const a = await pay('1.00');
    const b = await pay('2.00');
    const forA = await assertionFor(a);
    expect(await submit(b, forA)).toBe('401');
    expect(await paymentRow(b)).toEqual({ status: 'requires_approval', failed_approvals: 1 });
    expect(await paymentRow(a)).toEqual({ status: 'requires_approval', failed_approvals: 0 });
    // The assertion still approves the payment it was made for.
    expect(await submit(a, forA)).toBe('approved');
    expect((await paymentRow(a)).status).toBe('succeeded');
  });

  it('refuses an assertion over the same payment with another amount, and counts it', async () => {
    const paymentId = await pay('3.00');
    const payment = (
      await query<{
        id: string;
        payee_id: string;
        currency: string;
        amount: bigint;
        first_code_hash: string;
      }>('SELECT id, payee_id, currency, amount, first_code_hash FROM payments WHERE id = $1', [paymentId])
    )[0]!;
    // The options the platform issues carry a nonce; the forged challenge reuses it with 3.01 instead of 3.00.
    const honest = await assertionFor(paymentId);
    const nonce = (
      await query<{ nonce: string }>('SELECT nonce FROM passkey_challenges WHERE id = $1', [
        honest.challengeId,
      ])
    )[0]!.nonce;
    const forged = approvalChallenge(
      {
        id: paymentId,
        amount: BigInt(payment.amount) + 1n,
        currency: payment.currency,
        payeeId: payment.payee_id,
      },
      payment.first_code_hash,
      nonce,
    );
    const other = await assertionFor(paymentId, forged);
    expect(await submit(paymentId, { challengeId: honest.challengeId, response: other.response })).toBe(
      '401',
    );
    expect(await paymentRow(paymentId)).toEqual({ status: 'requires_approval', failed_approvals: 1 });
    // Its nonce was used by the refused attempt: the honest assertion over it is now a replay.
    expect(await submit(paymentId, honest)).toBe('401');
    expect(await paymentRow(paymentId)).toEqual({ status: 'requires_approval', failed_approvals: 2 });
  });

  it('refuses an older assertion once the counter moved past it (a cloned authenticator), and counts it', async () => {
    const first = await pay('4.00');
    const second = await pay('5.00');
    const older = await assertionFor(first);
    const newer = await assertionFor(second);
    expect(await submit(second, newer)).toBe('approved');
    expect(await submit(first, older)).toBe('401');
    expect(await paymentRow(first)).toEqual({ status: 'requires_approval', failed_approvals: 1 });
  });

  it('approves at most once when the same assertion is fired concurrently', async () => {
    const paymentId = await pay('6.00');
    const ceremony = await assertionFor(paymentId);
    const statuses = await Promise.all(Array.from({ length: 6 }, () => submit(paymentId, ceremony)));
    expect(statuses.filter((status) => status === 'approved')).toHaveLength(1);
    for (const status of statuses.filter((s) => s !== 'approved'))
      expect(['401', 'not_approvable']).toContain(status);
    const posted = await query<{ n: bigint }>(
      "SELECT count(*) AS n FROM transfers WHERE kind = 'post' AND pending_id = (SELECT hold_transfer_id FROM payments WHERE id = $1)",
      [paymentId],
    );
    expect(Number(posted[0]!.n)).toBe(1);
  });

  // Two servers: a second set of services (its own pool, executor and group commit) over the same database.
  it.runIf(engine === 'postgres')(
    'approves at most once when the same assertion reaches two servers at once',
    async () => {
      const second = await openPostgres({ url: platform.test.url!, poolSize: 8 });
      try {
        const otherServer = createPlatformServices({
          database: second,
          clock: platform.clock,
          configuration: {
            codeTtlSeconds: 300,
            lockSeconds: 900,
            publicUrl: platform.baseUrl,
            sweepIntervalMs: 1000,
            rateLimitPerPayer: 1_000_000,
            webhookAllowPrivateTargets: false,
          },
          masterKeyHex: platform.masterKeyHex,
          stores: sqlPlatformStores(second),
        });
        const paymentId = await pay('6.50');
        const ceremony = await assertionFor(paymentId);
        const input = {
          challengeId: ceremony.challengeId,
          response: ceremony.response as unknown as AuthenticationResponseJSON,
        };
        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, (_, index) =>
            (index % 2 === 0 ? platform.services : otherServer).passkeys.approve(paymentId, input),
          ),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
        for (const outcome of outcomes) {
          if (outcome.status === 'rejected')
            expect(['approval_failed', 'payment_not_approvable']).toContain(
              (outcome.reason as CountersignError).code,
            );
        }
        const posted = await query<{ n: bigint }>(
          "SELECT count(*) AS n FROM transfers WHERE kind = 'post' AND pending_id = (SELECT hold_transfer_id FROM payments WHERE id = $1)",
          [paymentId],
        );
        expect(Number(posted[0]!.n)).toBe(1);
        expect((await paymentRow(paymentId)).status).toBe('succeeded');
      } finally {
        await second.close();
      }
    },
  );

  it('refuses an assertion of a revoked passkey, and counts it', async () => {
    const paymentId = await pay('7.00');
    const ceremony = await assertionFor(paymentId);
    const passkeyId = (await query<{ id: string }>('SELECT id FROM passkeys'))[0]!.id;
    const revoked = await call(platform.app, 'POST', `/v1/terminals/${passkeyId}/revoke`, undefined, {
      token: platform.operatorToken,
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ kind: 'passkey', status: 'revoked' });
    await page.goto(`/payments/${paymentId}`);
    expect(await submit(paymentId, ceremony)).toBe('401');
    expect(await paymentRow(paymentId)).toEqual({ status: 'requires_approval', failed_approvals: 1 });
  });

  it('applies the attempt limits: the third wrong assertion fails the payment, five in a row lock the payer', async () => {
    // A new device: the old authenticator goes (its passkey is revoked), a new one registers.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = await addAuthenticator();
    await page.goto('/terminals');
    await page.getByLabel('Name of the passkey').fill('second key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(/\/terminals\?notice=passkey_added$/);
    const target = await pay('8.00');
    const decoy = await pay('9.00');
    // Made while the payer may still use the pages: a lock also ends what a locked payer can do there.
    const fresh = [await pay('0.10'), await pay('0.20'), await pay('0.30'), await pay('0.40')];
    const wrong = [];
    for (let index = 0; index < fresh.length; index += 1) wrong.push(await assertionFor(decoy));
    const right = await assertionFor(decoy);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await submit(target, await assertionFor(decoy))).toBe('401');
    }
    expect(await paymentRow(target)).toEqual({ status: 'failed', failed_approvals: 3 });
    const lockedUntil = async () =>
      (
        await query<{ locked_until_ms: bigint | null; consecutive_failures: number }>(
          'SELECT locked_until_ms, consecutive_failures FROM authentication_failures WHERE subject = $1',
          [alice.id],
        )
      )[0]?.locked_until_ms ?? null;
    // Wrong assertions on other payments, one each, until the payer is locked: within five in a row.
    for (let index = 0; index < fresh.length && (await lockedUntil()) === null; index += 1) {
      expect(await submit(fresh[index]!, wrong[index]!)).toBe('401');
    }
    expect(Number(await lockedUntil())).toBeGreaterThan(platform.clock.nowMs());
    // Locked: even the right assertion is refused without being compared, and changes nothing.
    expect(await submit(decoy, right)).not.toBe('approved');
    expect(await paymentRow(decoy)).toEqual({ status: 'requires_approval', failed_approvals: 0 });
    const unused = await query('SELECT id FROM passkey_challenges WHERE id = $1 AND used_at_ms IS NULL', [
      right.challengeId,
    ]);
    expect(unused).toHaveLength(1);
  });
});
