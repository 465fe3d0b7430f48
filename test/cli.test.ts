// Proves the countersign command line end to end as separate processes over the embedded database: set-up commands, verifiers that catch a tampered ledger or audit log, clear exit codes and messages for bad input, --help everywhere, and the data directory lock that keeps a second process off a database in use.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/services/database.js';
import { openDatabase } from '../src/store/open-database.js';
import { openPglite } from '../src/store/pglite-database.js';
import { type CliResult, runCli } from './support/processes.js';
import { seedDataDirectory } from './support/seeded-data-directory.js';

/** The subcommands listed in the "Commands:" section of a help text, without `help` itself. */
function commandsIn(help: string): string[] {
  const section = help.split(/\nCommands:\n/)[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][a-z-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

const describeResult = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;

/**
 * Each command is a process of its own that loads the platform and its embedded database (seconds; a
 * minute on a machine that is busy with other work): the tests that run several need a generous timeout.
 */
const severalCommandsMs = 600_000;

/** Runs `work` over `items`, at most `concurrency` at a time; results in the order of the items. */
async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += concurrency) {
    results.push(...(await Promise.all(items.slice(start, start + concurrency).map(work))));
  }
  return results;
}

describe('the countersign command', { timeout: severalCommandsMs }, () => {
  let dataDir: string;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-cli-'));
    env = { DATA_DIR: dataDir };
    await seedDataDirectory(dataDir);
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates a payer and a payee, deposits, and verifies the ledger and the audit log', async () => {
    const payer = await cli(
      'payer',
      'create',
      '--id',
      'alice',
      '--password',
      'correct horse battery',
      '--verification-code',
      '4321',
    );
    expect(payer.code, describeResult(payer)).toBe(0);
    const created = JSON.parse(payer.stdout);
    expect(created).toMatchObject({ id: 'alice', terminal: { suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1' } });
    expect(created.terminal.keyHex).toMatch(/^[0-9a-f]{64}$/);
    expect(payer.stderr).toBe('');
    // The secrets given on the command line are not echoed back.
    expect(payer.stdout).not.toContain('correct horse battery');

    const payee = await cli('payee', 'create', '--id', 'shop', '--name', 'Corner Shop');
    expect(payee.code, describeResult(payee)).toBe(0);
    expect(JSON.parse(payee.stdout)).toEqual({ id: 'shop', name: 'Corner Shop' });

    const deposit = await cli('deposit', '--payer', 'alice', '--amount', '5000', '--currency', 'EUR');
    expect(deposit.code, describeResult(deposit)).toBe(0);
    expect(JSON.parse(deposit.stdout)).toMatchObject({ payerId: 'alice', amount: '5000', currency: 'EUR' });

    const ledger = await cli('ledger', 'verify');
    expect(ledger.code, describeResult(ledger)).toBe(0);
    expect(ledger.stdout).toContain('ledger verified');
    expect(ledger.stdout).not.toContain('FAIL');
    const audit = await cli('audit', 'verify');
    expect(audit.code, describeResult(audit)).toBe(0);
    expect(audit.stdout).toMatch(/audit log verified: [0-9]+ entries, chain intact/);
  });

  it('creates a payer without an OCRA terminal: it prints no key', async () => {
    const payer = await cli(
      'payer',
      'create',
      '--id',
      'no-ocra',
      '--password',
      'correct horse battery',
      '--verification-code',
      '4321',
      '--no-ocra-terminal',
    );
    expect(payer.code, describeResult(payer)).toBe(0);
    expect(JSON.parse(payer.stdout)).toEqual({ id: 'no-ocra', terminal: null });
  });

  it.each([
    [['--amount', '12.50', '--currency', 'EUR', '--payer', 'alice'], /--amount.*12\.50.*whole number/],
    [['--amount', '0', '--currency', 'EUR', '--payer', 'alice'], /--amount.*'0'.*whole number/],
    [['--amount', '100', '--currency', 'eur', '--payer', 'alice'], /--currency.*'eur'.*ISO 4217/],
    [['--amount', '100', '--currency', 'EUR', '--payer', 'nobody-here'], /payer_not_found/],
    [['--currency', 'EUR', '--payer', 'alice'], /--amount/],
  ])('refuses deposit %j with exit code 2 and a message naming the fault', async (args, reason) => {
    const result = await cli('deposit', ...args);
    expect(result.code, describeResult(result)).toBe(2);
    expect(result.stderr).toMatch(reason);
    expect(result.stdout).toBe('');
  });

  it('creates an operator with a one-time set-up code, lists it, and refuses a bad role before opening anything', async () => {
    const created = await cli('operator', 'create', 'ada', '--role', 'admin');
    expect(created.code, describeResult(created)).toBe(0);
    const operator = JSON.parse(created.stdout) as Record<string, string>;
    expect(operator).toMatchObject({ name: 'ada', role: 'admin' });
    expect(operator['setupCode']).toMatch(/^cs_setup_[A-Za-z0-9_-]{32}$/);
    expect(operator['setupUrl']).toMatch(/\/operator\/setup$/);
    expect(created.stderr).toContain('shown only now');
    const badRole = await cli('operator', 'create', 'bea', '--role', 'root');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('Expected one of viewer, support, admin');
    const taken = await cli('operator', 'create', 'ada', '--role', 'viewer');
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain('operator_exists');
    const listed = await cli('operator', 'list');
    expect(listed.code, describeResult(listed)).toBe(0);
    const rows = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toEqual([
      expect.objectContaining({ name: 'ada', role: 'admin', active: false, createdBy: 'cli' }),
    ]);
    // The set-up code is shown once: it is nowhere in the listing.
    expect(listed.stdout).not.toContain(operator['setupCode']);
  });

  it('backs up a stopped platform, restores it into an empty directory, and refuses what it must not restore', async () => {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'countersign-restore-'));
    try {
      const file = path.join(scratch, 'stopped.backup');
      const backup = await cli('backup', '--output', file);
      expect(backup.code, describeResult(backup)).toBe(0);
      expect(JSON.parse(backup.stdout)).toMatchObject({ via: 'directory', formatVersion: 1 });
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await cli('backup', '--output', file)).stderr).toContain('exists');
      const postgres = await runCli(['backup', '--output', path.join(scratch, 'pg.backup')], {
        ...env,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      });
      expect(postgres.code).toBe(2);
      expect(postgres.stderr).toContain('pg_dump');

      const original = await readFile(file);
      const newline = original.indexOf(0x0a);
      const damaged = Buffer.from(original);
      damaged[newline + 100] = damaged[newline + 100]! ^ 0xff;
      const manifest = JSON.parse(original.subarray(0, newline).toString('utf8')) as Record<string, unknown>;
      const newer = Buffer.concat([
        Buffer.from(`${JSON.stringify({ ...manifest, schemaVersion: '9999_future.sql' })}\n`),
        original.subarray(newline + 1),
      ]);
      const otherKey = path.join(scratch, 'other.key');
      await writeFile(otherKey, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
      const refusals: [string, string[], string][] = [
        ['damaged', ['--input', path.join(scratch, 'damaged.backup')], 'checksum'],
        ['newer', ['--input', path.join(scratch, 'newer.backup')], 'newer than this version'],
        ['wrong key', ['--input', file, '--master-key', otherKey], 'not the one the backup needs'],
      ];
      await writeFile(path.join(scratch, 'damaged.backup'), damaged);
      await writeFile(path.join(scratch, 'newer.backup'), newer);
      for (const [name, args, message] of refusals) {
        const target = path.join(scratch, `target-${name.replace(' ', '-')}`);
        const refused = await runCli(['restore', ...args, '--data-dir', target], {});
        expect(refused.code, `${name}: ${describeResult(refused)}`).toBe(2);
        expect(refused.stderr, name).toContain(message);
        // Refused before anything was written: the target was not even created.
        await expect(stat(target), name).rejects.toThrow();
      }
      const occupied = path.join(scratch, 'occupied');
      await mkdir(occupied, { mode: 0o700 });
      await writeFile(path.join(occupied, 'keep.txt'), 'mine');
      const nonEmpty = await runCli(['restore', '--input', file, '--data-dir', occupied], {});
      expect(nonEmpty.code).toBe(2);
      expect(nonEmpty.stderr).toContain('not empty');
      expect(await readdir(occupied)).toEqual(['keep.txt']);

      const target = path.join(scratch, 'restored');
      const restored = await runCli(
        ['restore', '--input', file, '--data-dir', target, '--master-key', path.join(dataDir, 'master.key')],
        {},
      );
      expect(restored.code, describeResult(restored)).toBe(0);
      expect(JSON.parse(restored.stdout)).toMatchObject({ ledgerVerified: true, auditVerified: true });
      const verified = await runCli(['ledger', 'verify'], { DATA_DIR: target });
      expect(verified.code, describeResult(verified)).toBe(0);
      const payees = await runCli(['payee', 'create', '--id', 'shop', '--name', 'Again'], {
        DATA_DIR: target,
      });
      // The restored directory holds what the original held: the payee exists there too.
      expect(payees.stderr).toContain('payee_exists');
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('exports the books to a file and to standard output, and refuses bad flags before opening anything', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const output = path.join(dataDir, 'transfers.csv');
    const written = await cli('export', 'transfers', '--from', today, '--to', tomorrow, '--output', output);
    expect(written.code, describeResult(written)).toBe(0);
    const lines = (await readFile(output, 'utf8')).split('\r\n');
    expect(lines[0]).toBe(
      'id,created_at,kind,debit_account_id,credit_account_id,amount_minor,amount,currency,pending_id,reference',
    );
    expect(lines.slice(1, -1).some((line) => line.includes(',single,'))).toBe(true);
    const again = await cli('export', 'transfers', '--from', today, '--to', tomorrow, '--output', output);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists');

    const streamed = await cli('export', 'payments', '--from', today, '--to', tomorrow, '--format', 'jsonl');
    expect(streamed.code, describeResult(streamed)).toBe(0);
    expect(streamed.stdout).toBe('');

    const nowhere = path.join(dataDir, 'never-created');
    for (const [args, reason] of [
      [['accounts', '--from', today, '--to', tomorrow], /invalid_request: kind/],
      [['transfers', '--from', tomorrow, '--to', today], /invalid_request: to must be after from/],
      [['transfers', '--from', today, '--to', tomorrow, '--format', 'xlsx'], /invalid_request: format/],
      [['transfers', '--from', '2020-01-01', '--to', tomorrow], /at most 366 days/],
    ] as const) {
      const refused = await runCli(['export', ...args], { DATA_DIR: nowhere });
      expect(refused.code, describeResult(refused)).toBe(2);
      expect(refused.stderr).toMatch(reason);
      expect(refused.stdout).toBe('');
    }
    await expect(stat(nowhere)).rejects.toThrow();
  });

  it('leaves the ledger as it was after the refused deposits', async () => {
    const database = await openPglite({ dataDir: path.join(dataDir, 'pglite') });
    try {
      const transfers = await database.query<{ count: bigint }>(
        'SELECT count(*)::bigint AS count FROM transfers',
      );
      expect(transfers[0]!.count).toBe(1n);
    } finally {
      await database.close();
    }
  });

  it('stops with a message naming DATABASE_URL when it is malformed, of another scheme, or unreachable', async () => {
    const urls = [
      'nonsense',
      'mysql://root@127.0.0.1/countersign',
      'postgres://postgres@127.0.0.1:1/countersign',
    ];
    const results = await Promise.all(
      urls.map((url) => runCli(['ledger', 'verify'], { ...env, DATABASE_URL: url })),
    );
    for (const result of results) {
      expect(result.stderr, describeResult(result)).toContain('DATABASE_URL');
      expect(result.stdout).not.toContain('ledger verified');
    }
    // A malformed setting is bad input (2); a server that does not answer is a failure (1).
    expect(results.map((result) => result.code)).toEqual([2, 2, 1]);
  });

  it('refuses to open the embedded database while another process holds it', async () => {
    let holder: Database | undefined = await openDatabase({
      databaseUrl: undefined,
      databasePoolSize: 1,
      dataDir,
    });
    try {
      const refused = await cli('ledger', 'verify');
      expect(refused.code, describeResult(refused)).toBe(1);
      expect(refused.stderr).toContain(
        `another countersign process uses DATA_DIR ${dataDir} (pid ${process.pid})`,
      );
      // Closing releases the directory: the next test's commands open it again.
      await holder.close();
      holder = undefined;
    } finally {
      await holder?.close();
    }
  });

  it('fails ledger verify and audit verify, naming what is wrong, once the database was tampered with', async () => {
    const database = await openPglite({ dataDir: path.join(dataDir, 'pglite') });
    try {
      await database.query(
        `UPDATE accounts SET credits_posted = credits_posted + 1 WHERE kind = 'payer' AND owner_id = 'alice'`,
      );
      // The audit log refuses edits by trigger; someone with the database's owner rights can drop it.
      await database.query('DROP TRIGGER audit_log_append_only ON audit_log');
      await database.query(`UPDATE audit_log SET detail = '{"tampered":true}' WHERE position = 2`);
    } finally {
      await database.close();
    }
    const ledger = await cli('ledger', 'verify');
    expect(ledger.code, describeResult(ledger)).toBe(1);
    expect(ledger.stdout).toMatch(/^FAIL \S+/m);
    expect(ledger.stdout).toContain('ledger verification FAILED');
    const audit = await cli('audit', 'verify');
    expect(audit.code, describeResult(audit)).toBe(1);
    expect(audit.stdout).toContain('audit log verification FAILED at position 2');
  });

  it('answers --help of every command, and of every subcommand, with exit code 0', async () => {
    const root = await cli('--help');
    expect(root.code, describeResult(root)).toBe(0);
    const topLevel = commandsIn(root.stdout);
    for (const expected of [
      'serve',
      'payer',
      'payee',
      'deposit',
      'ledger',
      'audit',
      'ocra',
      'operator',
      'backup',
      'restore',
    ]) {
      expect(topLevel).toContain(expected);
    }
    const helps = await inBatches(topLevel, 4, async (name) => ({ name, result: await cli(name, '--help') }));
    const nested = helps.flatMap(({ name, result }) => commandsIn(result.stdout).map((sub) => [name, sub]));
    expect(nested).toContainEqual(['payer', 'create']);
    expect(nested).toContainEqual(['ledger', 'verify']);
    const subHelps = await inBatches(nested, 4, async (names) => ({
      name: names.join(' '),
      result: await cli(...names, '--help'),
    }));
    for (const { name, result } of [...helps, ...subHelps]) {
      expect(result.code, `${name}: ${describeResult(result)}`).toBe(0);
      expect(result.stdout, name).toContain(`Usage: countersign ${name}`);
    }
  });
});
