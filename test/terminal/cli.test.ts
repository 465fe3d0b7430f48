// Proves on both engines, against a running `countersign serve`, that the command-line terminal enrolls into an encrypted key file, watches pushed payments with payee and amount, computes second codes offline, lists and approves a payment, and refuses a wrong verification code and a reused enrollment.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';
import { testEngines } from '../support/engines.js';
import { RunningCli, runTerminalCli } from './support/cli.js';
import { api, type ServerUnderTest, startServerUnderTest } from './support/server.js';

// Every command is a process of its own (Node.js, TypeScript loader, Argon2id): seconds each on a busy machine.
const cliTestTimeoutMs = 300_000;

describe.each(testEngines())('command-line terminal on %s', (engine) => {
  let server: ServerUnderTest;
  let payer: { terminal: { suite: string; keyHex: string; enrollmentUri: string } };
  let file: string;
  const password = 'correct horse battery';

  beforeAll(async () => {
    server = await startServerUnderTest(engine);
    const created = await api(
      server.url,
      'POST',
      '/v1/payers',
      { id: 'carol', password, verificationCode: '2468' },
      server.operatorToken,
    );
    expect(created.status).toBe(201);
    payer = created.json;
    await api(server.url, 'POST', '/v1/payees', { id: 'shop', name: 'Corner Shop' }, server.operatorToken);
    await api(
      server.url,
      'POST',
      '/v1/deposits',
      { payerId: 'carol', amount: 500_000, currency: 'EUR' },
      server.operatorToken,
    );
    file = path.join(server.directory, 'terminal.json');
  }, 240_000);
  afterAll(async () => {
    await server?.dispose();
  }, 240_000);

  async function pay(amount: number): Promise<string> {
    const answer = await api(server.url, 'POST', '/v1/payments', {
      payerId: 'carol',
      password,
      payeeId: 'shop',
      amount,
      currency: 'EUR',
      deliverTo: 'second_terminal',
    });
    expect(answer.status).toBe(201);
    return answer.json.id;
  }

  it(
    'enrolls into a key file encrypted under the verification code',
    async () => {
      const enrolled = await runTerminalCli(
        [
          'terminal',
          'enroll',
          payer.terminal.enrollmentUri,
          '--file',
          file,
          '--label',
          'cli',
          '--verification-code-stdin',
        ],
        '2468\n',
      );
      expect(enrolled.stderr).toBe('');
      expect(enrolled.code).toBe(0);
      expect(enrolled.stdout).toMatch(/^enrolled terminal [0-9a-f-]{36} for payer carol/);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const content = await readFile(file, 'utf8');
      expect(content).not.toContain(payer.terminal.keyHex);
      expect(JSON.parse(content)).toMatchObject({
        payerId: 'carol',
        platformUrl: server.url,
        kdf: { name: 'argon2id' },
      });
      const terminals = await api(
        server.url,
        'GET',
        '/v1/payers/carol/terminals',
        undefined,
        server.operatorToken,
      );
      expect(terminals.json.data[0]).toMatchObject({ enrolled: true, label: 'cli' });
    },
    cliTestTimeoutMs,
  );

  it(
    'refuses to enroll with a reused enrollment',
    async () => {
      const again = await runTerminalCli(
        [
          'terminal',
          'enroll',
          payer.terminal.enrollmentUri,
          '--file',
          path.join(server.directory, 'other.json'),
          '--verification-code-stdin',
        ],
        '2468\n',
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('enrollment_not_redeemable');
    },
    cliTestTimeoutMs,
  );

  it(
    'watches payments as they come, responds, lists and approves',
    async () => {
      const watch = new RunningCli(
        ['terminal', 'watch', '--file', file, '--verification-code-stdin'],
        '2468\n',
      );
      try {
        await watch.waitFor(/watching for payments/, 'stderr');
        // The stream is registered shortly after the message; a payment made now is pushed or polled to it.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const paymentId = await pay(1250);
        const line = await watch.waitFor(
          new RegExp(`12\\.50 EUR to Corner Shop · first code ([0-9]{8}) · payment ${paymentId}`),
        );
        const firstCode = line[1]!;

        const responded = await runTerminalCli(
          ['terminal', 'respond', firstCode, '--file', file, '--verification-code-stdin'],
          '2468\n',
        );
        expect(responded.code).toBe(0);
        const expected = await computeOcra({
          suite: payer.terminal.suite,
          key: hexToBytes(payer.terminal.keyHex),
          question: firstCode,
          pin: '2468',
        });
        expect(responded.stdout.trim()).toBe(expected);

        const listed = await runTerminalCli(
          ['terminal', 'list', '--file', file, '--verification-code-stdin'],
          '2468\n',
        );
        expect(listed.code).toBe(0);
        expect(listed.stdout).toContain(
          `12.50 EUR to Corner Shop · first code ${firstCode} · payment ${paymentId}`,
        );

        const approved = await runTerminalCli(
          ['terminal', 'approve', paymentId, '--file', file, '--verification-code-stdin'],
          '2468\n',
        );
        expect(approved.stderr).toContain('approving 12.50 EUR to Corner Shop');
        expect(approved.code).toBe(0);
        expect(approved.stdout.trim()).toBe(`payment ${paymentId} succeeded`);
        const shown = await api(
          server.url,
          'GET',
          `/v1/payments/${paymentId}`,
          undefined,
          server.operatorToken,
        );
        expect(shown.json.status).toBe('succeeded');
        await watch.waitFor(new RegExp(`closed · payment ${paymentId}`));

        // Another amount shows as that amount.
        const other = await pay(99_999);
        await watch.waitFor(
          new RegExp(`999\\.99 EUR to Corner Shop · first code [0-9]{8} · payment ${other}`),
        );
      } finally {
        expect(await watch.stop()).not.toBeNull();
      }
    },
    cliTestTimeoutMs,
  );

  it(
    'refuses a wrong verification code without contacting the platform',
    async () => {
      const wrong = await runTerminalCli(
        ['terminal', 'respond', '12345678', '--file', file, '--verification-code-stdin'],
        '1111\n',
      );
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('the verification code does not open this terminal file');
      expect(wrong.stdout).toBe('');
      const malformed = await runTerminalCli(
        ['terminal', 'respond', '1234', '--file', file, '--verification-code-stdin'],
        '2468\n',
      );
      expect(malformed.code).toBe(2);
    },
    cliTestTimeoutMs,
  );
});
