// Proves on both engines that enrollments bind a device key once, before they expire, to the first or a new terminal; that reuse, expiry, a wrong secret, a forged signature or a wrong verification code are refused with their code and change nothing they must not; and that revocation stops approvals and signed requests at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTerminalKeyPair, signTerminalRequest } from '../../src/domain/enrollment-credential.js';
import { parseEnrollmentUri } from '../../src/domain/enrollment-uri.js';
import { call, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import { injectTransport, TestTerminal, type Transport } from './support/test-terminal.js';

describe.each(testEngines())('enrollment on %s', (engine) => {
  let platform: TestPlatform;
  let transport: Transport;
  const now = () => platform.clock.nowMs();
  const verificationCode = '4321';
  const password = 'correct horse battery';

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { codeTtlSeconds: 120 });
    transport = injectTransport(platform.app);
    await createPayee(platform.app, platform.operatorToken, 'shop');
  });
  afterAll(async () => {
    await platform.dispose();
  });

  async function createPayer(id: string) {
    const created = await call(
      platform.app,
      'POST',
      '/v1/payers',
      { id, password, verificationCode },
      { token: platform.operatorToken },
    );
    expect(created.statusCode, created.body).toBe(201);
    const deposit = await call(
      platform.app,
      'POST',
      '/v1/deposits',
      { payerId: id, amount: 10_000, currency: 'EUR' },
      { token: platform.operatorToken },
    );
    expect(deposit.statusCode).toBe(201);
    return created.json() as {
      id: string;
      terminal: { id: string; suite: string; keyHex: string; enrollmentUri: string };
      enrollment: { id: string; expiresAt: string };
    };
  }

  async function session(payerId: string): Promise<string> {
    const answer = await call(platform.app, 'POST', '/v1/sessions', { payerId, password });
    expect(answer.statusCode).toBe(201);
    return answer.json().token;
  }

  async function issue(payerId: string, token: string, body: unknown = {}) {
    return call(platform.app, 'POST', `/v1/payers/${payerId}/terminals`, body, { token });
  }

  async function pay(payerId: string, amount: number) {
    const answer = await call(platform.app, 'POST', '/v1/payments', {
      payerId,
      password,
      payeeId: 'shop',
      amount,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    expect(answer.statusCode, answer.body).toBe(201);
    return answer.json() as { id: string; firstCode: string };
  }

  it('issues a documented enrollment URI with the new payer and binds a device to its first terminal', async () => {
    const created = await createPayer('erin');
    const uri = parseEnrollmentUri(created.terminal.enrollmentUri);
    expect(uri).toMatchObject({
      payerId: 'erin',
      enrollmentId: created.enrollment.id,
      suite: created.terminal.suite,
      keyHex: created.terminal.keyHex,
      platformUrl: 'http://127.0.0.1:8080',
      expiresAtMs: Date.parse(created.enrollment.expiresAt),
    });
    expect(uri.expiresAtMs - now()).toBeGreaterThan(9 * 60_000);
    expect(uri.expiresAtMs - now()).toBeLessThanOrEqual(10 * 60_000);

    const svg = await call(platform.app, 'GET', `/v1/enrollments/${uri.enrollmentId}/qr.svg`, undefined, {
      token: platform.operatorToken,
    });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.body).toContain('<svg');
    const png = await call(platform.app, 'GET', `/v1/enrollments/${uri.enrollmentId}/qr.png`, undefined, {
      token: platform.operatorToken,
    });
    expect(png.statusCode).toBe(200);
    expect(png.rawPayload.subarray(1, 4).toString('latin1')).toBe('PNG');

    const terminal = await TestTerminal.enroll(
      transport,
      now,
      created.terminal.enrollmentUri,
      verificationCode,
      'Phone',
    );
    expect(terminal.id).toBe(created.terminal.id);
    const listed = await call(platform.app, 'GET', '/v1/payers/erin/terminals', undefined, {
      token: platform.operatorToken,
    });
    expect(listed.json().data).toEqual([
      expect.objectContaining({ id: created.terminal.id, status: 'active', enrolled: true, label: 'Phone' }),
    ]);
    const self = await terminal.call('GET', '/v1/terminal');
    expect(self.status, self.body).toBe(200);
    expect(self.json()).toMatchObject({ id: terminal.id, payerId: 'erin' });
    const state = await call(platform.app, 'GET', `/v1/enrollments/${uri.enrollmentId}`, undefined, {
      token: platform.operatorToken,
    });
    expect(state.json()).toMatchObject({ status: 'redeemed', terminalId: terminal.id });
    // The URI (key and secret) is gone with the enrollment: its QR code can no longer be shown.
    const qrAfter = await call(platform.app, 'GET', `/v1/enrollments/${uri.enrollmentId}/qr.svg`, undefined, {
      token: platform.operatorToken,
    });
    expect(qrAfter.statusCode).toBe(409);
    expect(qrAfter.json().error).toMatchObject({ code: 'enrollment_not_redeemable', status: 'redeemed' });
    const [row] = await platform.test.database.query<{
      key_sealed: string | null;
      uri_sealed: string | null;
    }>('SELECT key_sealed, uri_sealed FROM enrollments WHERE id = $1', [uri.enrollmentId]);
    expect(row).toEqual({ key_sealed: null, uri_sealed: null });
  });

  it('refuses to redeem an enrollment twice, and the second attempt changes nothing', async () => {
    const created = await createPayer('frank');
    await TestTerminal.enroll(transport, now, created.terminal.enrollmentUri, verificationCode);
    const before = await snapshotTables(platform.test.database);
    const again = await TestTerminal.enrollmentRequest(created.terminal.enrollmentUri, verificationCode, now);
    const answer = await transport(again.request);
    expect(answer.status).toBe(409);
    expect(answer.json().error).toMatchObject({ code: 'enrollment_not_redeemable', status: 'redeemed' });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
  });

  it('refuses an expired enrollment, and changes nothing', async () => {
    const created = await createPayer('gina');
    const token = await session('gina');
    const issued = await issue('gina', token, { label: 'Tablet' });
    expect(issued.statusCode, issued.body).toBe(201);
    const request = await TestTerminal.enrollmentRequest(
      issued.json().enrollmentUri,
      verificationCode,
      () => now() + 600_000,
    );
    platform.clock.advance(600_000);
    const before = await snapshotTables(platform.test.database);
    const answer = await transport(request.request);
    expect(answer.status).toBe(409);
    expect(answer.json().error).toMatchObject({ code: 'enrollment_not_redeemable', status: 'expired' });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    // The payer's first terminal's own enrollment expired too.
    const first = await TestTerminal.enrollmentRequest(created.terminal.enrollmentUri, verificationCode, now);
    expect((await transport(first.request)).json().error.status).toBe('expired');
    // The sweeper closes expired enrollments and wipes their sealed key and URI.
    expect(await platform.services.enrollments.expireDue()).toBeGreaterThanOrEqual(2);
    const open = await platform.test.database.query(
      `SELECT id FROM enrollments WHERE payer_id = 'gina' AND (key_sealed IS NOT NULL OR uri_sealed IS NOT NULL)`,
    );
    expect(open).toEqual([]);
  });

  it('refuses a wrong secret and a forged signature, and changes nothing', async () => {
    const created = await createPayer('hugo');
    const before = await snapshotTables(platform.test.database);
    const wrongSecret = await TestTerminal.enrollmentRequest(
      created.terminal.enrollmentUri,
      verificationCode,
      now,
      {
        secret: 'A'.repeat(43),
      },
    );
    const refused = await transport(wrongSecret.request);
    expect(refused.status).toBe(401);
    expect(refused.json().error.code).toBe('enrollment_invalid');

    // Signed by a key other than the one in the body: the device does not hold the key it registers.
    const genuine = await TestTerminal.enrollmentRequest(
      created.terminal.enrollmentUri,
      verificationCode,
      now,
    );
    const other = await generateTerminalKeyPair();
    const forgedHeaders = await signTerminalRequest(other.privateKey, {
      method: 'POST',
      path: '/v1/terminals/enroll',
      keyId: `enrollment:${genuine.parsed.enrollmentId}`,
      body: genuine.request.body!,
      timestampMs: now(),
    });
    const forged = await transport({
      ...genuine.request,
      headers: { ...forgedHeaders, 'content-type': 'application/json' },
    });
    expect(forged.status).toBe(401);
    expect(forged.json().error.code).toBe('terminal_authentication_failed');

    // A body changed after signing.
    const tampered = await transport({
      ...genuine.request,
      body: genuine.request.body!.replace(/"confirmationCode":"[0-9]+"/, '"confirmationCode":"00000000"'),
    });
    expect(tampered.json().error.code).toBe('terminal_authentication_failed');

    // A timestamp outside the window.
    const stale = await TestTerminal.enrollmentRequest(
      created.terminal.enrollmentUri,
      verificationCode,
      () => now() - 61_000,
    );
    const staleAnswer = await transport(stale.request);
    expect(staleAnswer.status).toBe(401);
    expect(staleAnswer.json().error).toMatchObject({ code: 'terminal_request_expired', serverTime: now() });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    // The genuine request still works afterwards.
    expect((await transport(genuine.request)).status).toBe(201);
  });

  it('counts a wrong verification code against the payer and cancels the enrollment after three', async () => {
    const created = await createPayer('ines');
    for (let attempt = 1; attempt <= 3; attempt++) {
      const wrong = await TestTerminal.enrollmentRequest(created.terminal.enrollmentUri, '9999', now);
      const answer = await transport(wrong.request);
      expect(answer.status).toBe(401);
      expect(answer.json().error.code).toBe('enrollment_confirmation_failed');
      if (attempt === 1) {
        // The same request again is a replay: refused as such, and not counted a second time.
        const before = await snapshotTables(platform.test.database);
        const replayed = await transport(wrong.request);
        expect(replayed.json().error.code).toBe('terminal_request_replayed');
        expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
      }
    }
    const [failures] = await platform.test.database.query<{ consecutive_failures: number }>(
      `SELECT consecutive_failures FROM authentication_failures WHERE subject = 'ines'`,
    );
    expect(failures?.consecutive_failures).toBe(3);
    const right = await TestTerminal.enrollmentRequest(created.terminal.enrollmentUri, verificationCode, now);
    const answer = await transport(right.request);
    expect(answer.status).toBe(409);
    expect(answer.json().error).toMatchObject({ code: 'enrollment_not_redeemable', status: 'canceled' });
    const terminals = await platform.test.database.query(
      `SELECT id FROM terminals WHERE payer_id = 'ines' AND public_key IS NOT NULL`,
    );
    expect(terminals).toEqual([]);
  });

  it('lets a payer enroll another terminal with a session; only it and the operator may', async () => {
    const jack = await createPayer('jack');
    await createPayer('kate');
    const jackToken = await session('jack');
    const kateToken = await session('kate');
    const before = await snapshotTables(platform.test.database);
    const foreign = await issue('jack', kateToken);
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('forbidden');
    const anonymous = await call(platform.app, 'POST', '/v1/payers/jack/terminals', {});
    expect(anonymous.statusCode).toBe(401);
    const unknownSuite = await issue('jack', jackToken, { suite: 'OCRA-1:HOTP-SHA1-6:QN04' });
    expect(unknownSuite.statusCode).toBe(400);
    expect(unknownSuite.json().error.param).toBe('suite');
    // Only a session's idle window may move.
    expect(
      changedTables(before, await snapshotTables(platform.test.database)).filter((t) => t !== 'sessions'),
    ).toEqual([]);

    const issued = await issue('jack', jackToken, { label: 'Laptop' });
    expect(issued.statusCode, issued.body).toBe(201);
    expect(issued.json()).toMatchObject({ payerId: 'jack', status: 'open', label: 'Laptop' });
    const kateQr = await call(platform.app, 'GET', `/v1/enrollments/${issued.json().id}/qr.svg`, undefined, {
      token: kateToken,
    });
    expect(kateQr.json().error.code).toBe('enrollment_not_found');
    const jackQr = await call(platform.app, 'GET', new URL(issued.json().qrCodePngUrl).pathname, undefined, {
      token: jackToken,
    });
    expect(jackQr.statusCode).toBe(200);

    const paidBefore = await pay('jack', 100);
    const laptop = await TestTerminal.enroll(transport, now, issued.json().enrollmentUri, verificationCode);
    // A terminal of its own: its own OCRA key, not the first terminal's.
    expect(laptop.keyHex).not.toBe(jack.terminal.keyHex);
    expect(laptop.id).not.toBe(jack.terminal.id);
    const terminals = await call(platform.app, 'GET', '/v1/payers/jack/terminals', undefined, {
      token: jackToken,
    });
    // Both were created at the same instant of the manual clock, so their order is by id: compare sorted.
    expect(
      terminals
        .json()
        .data.map((t: { label: string }) => t.label)
        .sort(),
    ).toEqual(['Laptop', 'first terminal']);

    // Second codes of payments created after the enrollment include the new terminal; earlier ones do not.
    const paidAfter = await pay('jack', 200);
    const approved = await call(platform.app, 'POST', `/v1/payments/${paidAfter.id}/approve`, {
      secondCode: await laptop.secondCode(paidAfter.firstCode),
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const notYet = await call(platform.app, 'POST', `/v1/payments/${paidBefore.id}/approve`, {
      secondCode: await laptop.secondCode(paidBefore.firstCode),
    });
    expect(notYet.json().error.code).toBe('approval_failed');
  });

  it('revokes a terminal at once: its codes no longer approve and its signed requests are refused', async () => {
    await createPayer('lena');
    const token = await session('lena');
    const issued = await issue('lena', token);
    const phone = await TestTerminal.enroll(transport, now, issued.json().enrollmentUri, verificationCode);
    const payment = await pay('lena', 300);
    const secondCode = await phone.secondCode(payment.firstCode);

    const revoked = await call(platform.app, 'POST', `/v1/terminals/${phone.id}/revoke`, undefined, {
      token,
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({ id: phone.id, status: 'revoked' });

    const before = await snapshotTables(platform.test.database);
    const refused = await phone.call('GET', '/v1/terminal/challenges');
    expect(refused.status).toBe(401);
    expect(refused.json().error.code).toBe('terminal_revoked');
    const fromTerminal = await phone.call('POST', `/v1/terminal/payments/${payment.id}/approve`, {
      secondCode,
    });
    expect(fromTerminal.json().error.code).toBe('terminal_revoked');
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);

    const approval = await call(platform.app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
    expect(approval.statusCode).toBe(401);
    expect(approval.json().error.code).toBe('approval_failed');

    const again = await call(platform.app, 'POST', `/v1/terminals/${phone.id}/revoke`, undefined, {
      token: platform.operatorToken,
    });
    expect(again.json().status).toBe('revoked');
    const otherSession = await session('jack');
    const foreign = await call(platform.app, 'POST', `/v1/terminals/${phone.id}/revoke`, undefined, {
      token: otherSession,
    });
    expect(foreign.json().error.code).toBe('terminal_not_found');
  });

  it('limits open enrollments per payer', async () => {
    await createPayer('mona');
    const token = await session('mona');
    // The first terminal's enrollment is open already: four more fill the five allowed.
    for (let index = 0; index < 4; index++) expect((await issue('mona', token)).statusCode).toBe(201);
    const before = await snapshotTables(platform.test.database);
    const refused = await issue('mona', token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('terminal_limit_reached');
    // Only a session's idle window may move.
    expect(
      changedTables(before, await snapshotTables(platform.test.database)).filter((t) => t !== 'sessions'),
    ).toEqual([]);
  });

  it('keeps the audit chain intact', async () => {
    const audit = await platform.services.audit.verify();
    expect(audit.ok).toBe(true);
  });
});
