// Proves on PostgreSQL, with two server processes sharing the database, that concurrent bursts of wrong and replayed passkey assertions sent through the payer's pages of both servers are counted exactly as the limits allow: for one payment three are evaluated (it fails, no counter moves, nothing is posted, the right assertion afterwards is refused), and over six payments five are evaluated and the payer is locked.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Database } from '../../src/services/database.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { createPlatformServices, type PlatformServices } from '../../src/wiring/platform-services.js';
import { sqlPlatformStores } from '../../src/wiring/sql-stores.js';
import { openTestDatabase, type TestDatabase, testEngines } from '../support/engines.js';
import { type ServerProcess, startServerProcess } from '../support/processes.js';
import { SoftwareAuthenticator } from '../support/software-authenticator.js';

const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
const masterKeyHex = randomBytes(32).toString('hex');
/** The origin passkeys are made for: the servers' PUBLIC_URL (they listen elsewhere; only the origin counts). */
const publicUrl = 'http://localhost:8080';
const password = 'correct horse battery';
const processesMs = 600_000;

/** A signed-in payer's browser as far as the pages need it: its cookies. */
class PageSession {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly payerId: string) {}

  private remember(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }

  private get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** GETs a page of `server` and answers the CSRF token of its forms. */
  async csrfToken(server: ServerProcess, pagePath: string): Promise<string> {
    const response = await fetch(server.url + pagePath, {
      headers: { cookie: this.cookieHeader },
      redirect: 'manual',
    });
    this.remember(response);
    const token = /name="_csrf" value="([^"]+)"/.exec(await response.text())?.[1];
    if (token === undefined) throw new Error(`no CSRF token on ${pagePath} (${response.status})`);
    return token;
  }

  /** POSTs a form to `server`; answers the status and, for a redirect, where it goes. */
  async post(
    server: ServerProcess,
    formPath: string,
    fields: Record<string, string>,
  ): Promise<{ status: number; location: string | null }> {
    const response = await fetch(server.url + formPath, {
      method: 'POST',
      headers: { cookie: this.cookieHeader, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    this.remember(response);
    await response.arrayBuffer();
    return { status: response.status, location: response.headers.get('location') };
  }

  async signIn(server: ServerProcess): Promise<void> {
    const _csrf = await this.csrfToken(server, '/signin');
    const answer = await this.post(server, '/signin', { _csrf, payerId: this.payerId, password });
    if (answer.status !== 303 || answer.location !== '/') throw new Error(`sign-in failed: ${answer.status}`);
  }
}

async function operatorPost(server: ServerProcess, url: string, body: unknown): Promise<void> {
  const response = await fetch(server.url + url, {
    method: 'POST',
    headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, await response.text()).toBe(201);
}

describe.runIf(testEngines().includes('postgres'))(
  'a burst of passkey assertions over two servers on PostgreSQL',
  { timeout: processesMs },
  () => {
    let test: TestDatabase;
    let dataDirs: string[] = [];
    let servers: ServerProcess[] = [];
    let setupDatabase: Database;
    // The test's own services on the same database: they register the passkey and issue challenges as
    // a third server would; the burst itself goes through the two processes' pages.
    let services: PlatformServices;

    beforeAll(async () => {
      test = await openTestDatabase('postgres', 2);
      dataDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'countersign-passkey-'))));
      const common = {
        DATABASE_URL: test.url!,
        DATABASE_POOL_SIZE: '5',
        OPERATOR_TOKEN: operatorToken,
        MASTER_KEY: masterKeyHex,
        PUBLIC_URL: publicUrl,
        LOG_LEVEL: 'silent',
        // The per-process throttles would hide the core: raised out of the way.
        RATE_LIMIT_PER_PAYER: '1000000',
        RATE_LIMIT_PER_MINUTE: '10000000',
      };
      servers = await Promise.all(dataDirs.map((dir) => startServerProcess({ ...common, DATA_DIR: dir })));
      setupDatabase = await openPostgres({ url: test.url!, poolSize: 4 });
      services = createPlatformServices({
        database: setupDatabase,
        clock: new ManualClock(Date.now()),
        configuration: {
          codeTtlSeconds: 300,
          lockSeconds: 900,
          publicUrl,
          sweepIntervalMs: 1000,
          rateLimitPerPayer: 1_000_000,
          webhookAllowPrivateTargets: false,
        },
        masterKeyHex,
        stores: sqlPlatformStores(setupDatabase),
      });
    }, processesMs);
    afterAll(async () => {
      await Promise.allSettled(servers.map((server) => server.stop()));
      await setupDatabase?.close();
      await test?.dispose();
      await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    const query = <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      test.database.query<T>(sql, params);

    /** A funded payer without an OCRA terminal, with one passkey of a software authenticator. */
    async function passkeyPayer(id: string): Promise<SoftwareAuthenticator> {
      await operatorPost(servers[1]!, '/v1/payers', {
        id,
        password,
        verificationCode: '2468',
        firstTerminal: 'none',
      });
      await operatorPost(servers[0]!, '/v1/deposits', { payerId: id, amount: 100_000, currency: 'EUR' });
      const authenticator = new SoftwareAuthenticator(publicUrl);
      const registration = await services.passkeys.registrationOptions(id);
      await services.passkeys.register(id, {
        challengeId: registration.challengeId,
        response: authenticator.register(registration.options),
      });
      return authenticator;
    }

    const pay = async (payerId: string) =>
      (
        await services.payments.create({
          payerId,
          payeeId: 'shop',
          amount: 500n,
          currency: 'EUR',
          deliverTo: 'first_terminal',
        })
      ).payment.id;

    it('evaluates exactly three of 16 wrong and replayed assertions, fails the payment, and moves nothing else', async () => {
      await operatorPost(servers[0]!, '/v1/payees', { id: 'shop', name: 'Shop' });
      const authenticator = await passkeyPayer('fay');

      // An assertion that approved another payment: replayed here, it names that payment's used challenge.
      const session = new PageSession('fay');
      await session.signIn(servers[0]!);
      const earlier = await pay('fay');
      const earlierOptions = await services.passkeys.approvalOptions('fay', earlier);
      const replayed = {
        passkeyChallengeId: earlierOptions.challengeId,
        passkeyResponse: JSON.stringify(authenticator.assert(earlierOptions.options)),
      };
      const approveEarlier = await session.post(servers[1]!, `/payments/${earlier}/approve`, {
        _csrf: await session.csrfToken(servers[1]!, `/payments/${earlier}`),
        ...replayed,
      });
      expect(approveEarlier.location).toMatch(/notice=approved$/);

      const target = await pay('fay');
      const right = await services.passkeys.approvalOptions('fay', target);
      const forms: Record<string, string>[] = [];
      for (let index = 0; index < 8; index += 1) {
        forms.push(replayed);
        // A fresh challenge of this payment, signed over another payment's challenge text.
        const own = await services.passkeys.approvalOptions('fay', target);
        const wrong = authenticator.assert(own.options, { challenge: earlierOptions.options.challenge });
        forms.push({ passkeyChallengeId: own.challengeId, passkeyResponse: JSON.stringify(wrong) });
      }
      const counterBefore = await query<{ sign_count: bigint }>('SELECT sign_count FROM passkeys');
      const csrf = await Promise.all(
        servers.map((server) => session.csrfToken(server, `/payments/${target}`)),
      );
      const answers = await Promise.all(
        forms.map((fields, index) =>
          session.post(servers[index % 2]!, `/payments/${target}/approve`, {
            _csrf: csrf[index % 2]!,
            ...fields,
          }),
        ),
      );

      const refused = answers.filter((answer) => answer.status === 401);
      const closed = answers.filter(
        (answer) => answer.status === 303 && /notice=not_approvable$/.test(answer.location ?? ''),
      );
      expect(refused).toHaveLength(3);
      expect(closed).toHaveLength(forms.length - 3);
      expect(
        (
          await query<{ status: string; failed_approvals: number }>(
            'SELECT status, failed_approvals FROM payments WHERE id = $1',
            [target],
          )
        )[0],
      ).toEqual({ status: 'failed', failed_approvals: 3 });
      const failures = await query<{ consecutive_failures: number; locked_until_ms: bigint | null }>(
        "SELECT consecutive_failures, locked_until_ms FROM authentication_failures WHERE subject = 'fay'",
      );
      expect(failures[0]).toEqual({ consecutive_failures: 3, locked_until_ms: null });
      expect(await query('SELECT sign_count FROM passkeys')).toEqual(counterBefore);
      const posted = await query<{ n: bigint }>(
        "SELECT count(*) AS n FROM transfers WHERE kind = 'post' AND pending_id = (SELECT hold_transfer_id FROM payments WHERE id = $1)",
        [target],
      );
      expect(Number(posted[0]!.n)).toBe(0);

      // The right assertion, after the burst: the payment is closed, and it is not compared.
      const after = await session.post(servers[0]!, `/payments/${target}/approve`, {
        _csrf: csrf[0]!,
        passkeyChallengeId: right.challengeId,
        passkeyResponse: JSON.stringify(authenticator.assert(right.options)),
      });
      expect(after.location).toMatch(/notice=not_approvable$/);
      expect(
        (await query<{ status: string }>('SELECT status FROM payments WHERE id = $1', [target]))[0]!.status,
      ).toBe('failed');
    });

    it('evaluates exactly five of 12 wrong assertions over six payments, and locks the payer', async () => {
      const authenticator = await passkeyPayer('gus');
      const session = new PageSession('gus');
      await session.signIn(servers[1]!);
      const payments: string[] = [];
      for (let index = 0; index < 6; index += 1) payments.push(await pay('gus'));
      const stranger = await services.passkeys.approvalOptions('gus', await pay('gus'));
      const csrf = await Promise.all(
        servers.map((server) => session.csrfToken(server, `/payments/${payments[0]}`)),
      );
      const forms: { paymentId: string; fields: Record<string, string> }[] = [];
      for (const paymentId of [...payments, ...payments]) {
        const own = await services.passkeys.approvalOptions('gus', paymentId);
        const wrong = authenticator.assert(own.options, { challenge: stranger.options.challenge });
        forms.push({
          paymentId,
          fields: { passkeyChallengeId: own.challengeId, passkeyResponse: JSON.stringify(wrong) },
        });
      }
      const answers = await Promise.all(
        forms.map(({ paymentId, fields }, index) =>
          session.post(servers[index % 2]!, `/payments/${paymentId}/approve`, {
            _csrf: csrf[index % 2]!,
            ...fields,
          }),
        ),
      );

      // Five compared and refused; the other seven refused without comparison, the payer being locked.
      expect(answers.filter((answer) => answer.status === 401)).toHaveLength(5);
      expect(answers.filter((answer) => answer.status === 423)).toHaveLength(forms.length - 5);
      const rows = await query<{ status: string; failed_approvals: number }>(
        'SELECT status, failed_approvals FROM payments WHERE id = ANY($1::uuid[])',
        [payments],
      );
      expect(rows.map((row) => row.status)).toEqual(payments.map(() => 'requires_approval'));
      expect(rows.reduce((sum, row) => sum + row.failed_approvals, 0)).toBe(5);
      // The fifth failure engaged the first lock, which starts the count again (src/domain/attempts.ts).
      const failures = await query<{
        consecutive_failures: number;
        consecutive_locks: number;
        locked_until_ms: bigint | null;
      }>(
        "SELECT consecutive_failures, consecutive_locks, locked_until_ms FROM authentication_failures WHERE subject = 'gus'",
      );
      expect(failures[0]).toMatchObject({ consecutive_failures: 0, consecutive_locks: 1 });
      expect(Number(failures[0]!.locked_until_ms)).toBeGreaterThan(Date.now());
      expect(
        await query(
          'SELECT id FROM transfers WHERE kind = $1 AND pending_id IN (SELECT hold_transfer_id FROM payments WHERE payer_id = $2)',
          ['post', 'gus'],
        ),
      ).toEqual([]);
    });
  },
);
