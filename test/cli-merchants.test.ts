// Proves the merchant commands of the command line as separate processes over the embedded database (create, list, rotate-key with the old key stopped or kept for a grace period), and that a command that fails, on a bad flag or in the service, leaves no data directory and no master key behind, while one that succeeds on a new directory leaves a working platform.
import { access, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from './support/processes.js';
import { seedDataDirectory } from './support/seeded-data-directory.js';

const describeResult = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

describe('countersign merchant', { timeout: 600_000 }, () => {
  let root: string;
  let dataDir: string;
  const cli = (...args: string[]) => runCli(args, { DATA_DIR: dataDir });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'countersign-merchant-cli-'));
    dataDir = path.join(root, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    await seedDataDirectory(dataDir);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a merchant, lists it, and rotates its key', async () => {
    const created = await cli('merchant', 'create', '--id', 'corner-shop', '--name', 'Corner Shop');
    expect(created.code, describeResult(created)).toBe(0);
    const merchant = JSON.parse(created.stdout);
    expect(merchant).toMatchObject({ id: 'corner-shop', name: 'Corner Shop', webhookUrl: null });
    expect(merchant.apiKey).toMatch(/^cs_live_/);
    expect(merchant.webhookSecret).toMatch(/^whsec_/);

    const listed = await cli('merchant', 'list');
    expect(listed.code, describeResult(listed)).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ id: 'corner-shop', name: 'Corner Shop', webhookUrl: null }]);
    // Secrets are shown at creation only.
    expect(listed.stdout).not.toContain(merchant.apiKey);

    const rotated = await cli('merchant', 'rotate-key', '--id', 'corner-shop', '--grace-seconds', '3600');
    expect(rotated.code, describeResult(rotated)).toBe(0);
    const rotation = JSON.parse(rotated.stdout);
    expect(rotation).toMatchObject({ replaced: merchant.apiKeyId, graceSeconds: 3600 });
    expect(rotation.apiKey).toMatch(/^cs_live_/);
    expect(rotation.apiKey).not.toBe(merchant.apiKey);

    // Two keys work now (the old one for its grace period): the command will not guess which to replace.
    const ambiguous = await cli('merchant', 'rotate-key', '--id', 'corner-shop');
    expect(ambiguous.code, describeResult(ambiguous)).toBe(2);
    expect(ambiguous.stderr).toContain('2 usable API keys');
    const named = await cli('merchant', 'rotate-key', '--id', 'corner-shop', '--key', rotation.apiKeyId);
    expect(named.code, describeResult(named)).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ replaced: rotation.apiKeyId, graceSeconds: 0 });

    const taken = await cli('merchant', 'create', '--id', 'corner-shop', '--name', 'Again');
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('payee_exists');
  });

  it.each([
    [['merchant', 'create', '--id', 'no spaces', '--name', 'Shop'], '--id'],
    [['merchant', 'create', '--id', 'shop', '--name', '   '], '--name'],
    [['merchant', 'create', '--id', 'shop', '--name', 'Shop', '--webhook-url', 'not a url'], '--webhook-url'],
    [['merchant', 'list', '--limit', '0'], '--limit'],
    [['merchant', 'rotate-key', '--id', 'shop', '--key', 'nope'], '--key'],
    [['merchant', 'rotate-key', '--id', 'shop', '--grace-seconds', '-1'], '--grace-seconds'],
    [['payer', 'create', '--id', 'al', '--password', 'long enough', '--verification-code', '1234'], '--id'],
    [
      ['payer', 'create', '--id', 'alice', '--password', 'short', '--verification-code', '1234'],
      '--password',
    ],
    [['payer', 'create', '--id', 'alice', '--password', 'long enough', '--verification-code', '12'], 'code'],
    [['payee', 'create', '--id', 'shop', '--name', ''], '--name'],
  ])('refuses %j with exit code 2 before a data directory exists', async (args, named) => {
    const fresh = path.join(root, `fresh-${Math.random().toString(36).slice(2)}`);
    const result = await runCli(args, { DATA_DIR: fresh });
    expect(result.code, describeResult(result)).toBe(2);
    expect(result.stderr).toContain(named);
    expect(await exists(fresh)).toBe(false);
    expect(await exists(path.join(fresh, 'master.key'))).toBe(false);
  });

  it('leaves no data directory, parent or master key behind when the service refuses the command', async () => {
    const parent = path.join(root, `absent-${Math.random().toString(36).slice(2)}`);
    const fresh = path.join(parent, 'data');
    const refused = await runCli(['merchant', 'rotate-key', '--id', 'no-such-shop'], { DATA_DIR: fresh });
    expect(refused.code, describeResult(refused)).toBe(2);
    expect(refused.stderr).toContain('merchant_not_found');
    expect(await exists(path.join(fresh, 'master.key'))).toBe(false);
    expect(await exists(fresh)).toBe(false);
    expect(await exists(parent)).toBe(false);
  });

  it('makes a new data directory a platform once the command succeeded there', async () => {
    const fresh = path.join(root, `new-${Math.random().toString(36).slice(2)}`);
    const created = await runCli(['merchant', 'create', '--id', 'new-shop', '--name', 'New Shop'], {
      DATA_DIR: fresh,
    });
    expect(created.code, describeResult(created)).toBe(0);
    expect(await exists(path.join(fresh, 'master.key'))).toBe(true);
    const listed = await runCli(['merchant', 'list'], { DATA_DIR: fresh });
    expect(listed.code, describeResult(listed)).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ id: 'new-shop' });
    // Nothing of the staging directory is left next to it.
    const siblings = await readdir(root);
    expect(siblings.filter((name) => name.includes('.creating-'))).toEqual([]);
  });
});
