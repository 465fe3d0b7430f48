// Proves `countersign demo` as a separate process: on a development data directory it creates a funded payer, a payee and a merchant and prints working credentials and commands; it refuses PostgreSQL and an https PUBLIC_URL without --force, creating nothing.
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { hexToBytes } from '../src/domain/hex.js';
import { computeOcra } from '../src/domain/ocra.js';
import { openPlatform } from '../src/main.js';
import { type CliResult, runCli } from './support/processes.js';
import { seedDataDirectory } from './support/seeded-data-directory.js';

const describeResult = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

describe('countersign demo', { timeout: 600_000 }, () => {
  let root: string;
  let dataDir: string;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'countersign-demo-'));
    dataDir = path.join(root, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    await seedDataDirectory(dataDir);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a funded payer, a payee and a merchant, and prints credentials that work', async () => {
    const result = await runCli(['demo'], { DATA_DIR: dataDir });
    expect(result.code, describeResult(result)).toBe(0);
    const demo = JSON.parse(result.stdout);
    expect(demo.merchant).toMatchObject({ id: 'demo-shop' });
    expect(demo.merchant.apiKey).toMatch(/^cs_live_/);
    expect(demo.payer).toMatchObject({ id: 'demo-payer', balance: { available: '100000', currency: 'EUR' } });
    expect(demo.payer.verificationCode).toMatch(/^[0-9]{6}$/);
    expect(demo.enrollTerminalCommand).toMatch(/^npx countersign terminal enroll 'countersign:\/\/enroll\?/);

    // The printed command computes the second code the platform expects for a first code.
    const args = (demo.secondCodeCommand as string).replace('<first code>', '12345678').split(' ').slice(2);
    const computed = await runCli(args, {});
    expect(computed.code, describeResult(computed)).toBe(0);
    const expected = await computeOcra({
      suite: demo.payer.terminal.suite,
      key: hexToBytes(demo.payer.terminal.keyHex),
      question: '12345678',
      pin: demo.payer.verificationCode,
    });
    expect(computed.stdout.trim()).toBe(expected);

    // The payer signs in with the printed password, has the money, and the merchant key authenticates.
    const platform = await openPlatform(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' }));
    try {
      const { services } = platform;
      await expect(services.merchants.authenticate(demo.merchant.apiKey)).resolves.toBe('demo-shop');
      expect(await services.parties.payerBalance('demo-payer', 'EUR')).toMatchObject({ available: 100_000n });
    } finally {
      await platform.close();
    }

    // A second run finds the sandbox there and says so, without a second payer.
    const again = await runCli(['demo'], { DATA_DIR: dataDir });
    expect(again.code, describeResult(again)).toBe(2);
    expect(again.stderr).toContain('payer_exists');
  });

  it.each([
    [{ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' }, 'PostgreSQL'],
    [{ PUBLIC_URL: 'https://pay.example' }, 'public platform'],
  ])('refuses %j without --force, creating nothing', async (env, reason) => {
    const fresh = path.join(root, `fresh-${Math.random().toString(36).slice(2)}`);
    const result = await runCli(['demo'], { DATA_DIR: fresh, ...env });
    expect(result.code, describeResult(result)).toBe(2);
    expect(result.stderr).toContain(reason);
    expect(await exists(fresh)).toBe(false);
  });
});
