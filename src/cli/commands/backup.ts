/**
 * `countersign backup --output FILE` and `countersign restore --input FILE --data-dir DIR`.
 *
 * Backup: while the server runs on the embedded database (it holds the data directory), the CLI asks it for
 * a consistent image (`POST /v1/backups`, with the operator token); with the server stopped it opens the
 * directory itself. The file is written atomically (a temporary file, flushed, then renamed), mode 0600, and
 * holds the database only, never the master key. On PostgreSQL, PostgreSQL's own tools back up (see
 * docs/operations.md).
 *
 * Restore: into an empty directory only; the file is checked (format, checksum, schema no newer than this
 * version) before anything is written; the database is opened, migrated and `ledger verify` and
 * `audit verify` must pass before success is reported. With `--master-key FILE` the key is put beside it,
 * after checking it is the key the backup's sealed values need.
 */
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { BackupRefused } from '../../domain/backup.js';
import { configOrExit, exitCodes, restrictNewFilesToUser } from '../platform-command.js';

/** A path argument, made absolute. */
function pathOption(value: string): string {
  if (value.trim() === '' || value.includes('\u0000'))
    throw new InvalidArgumentError('Expected a file path.');
  return path.resolve(value);
}

function fail(message: string, code: number = exitCodes.badInput): void {
  process.stderr.write(`countersign: ${message}\n`);
  process.exitCode = code;
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  );

/** Writes `bytes` to `file` atomically: a private temporary file beside it, flushed, then renamed. */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.partial`;
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename itself is durable once the directory is flushed.
  const directory = await open(path.dirname(file), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** `backup`: refuses on PostgreSQL or an existing file, then writes the image the server (or the CLI) takes. */
async function backup(options: { output: string; url?: string }): Promise<void> {
  const config = configOrExit();
  if (config === undefined) return;
  if (config.databaseUrl !== undefined) {
    return fail(
      'the platform runs on PostgreSQL: back it up with pg_basebackup and WAL archiving, or pg_dump (docs/operations.md)',
    );
  }
  if (await exists(options.output)) return fail(`${options.output} exists; choose a new file name`);
  if (!(await exists(path.dirname(options.output)))) {
    return fail(`the directory of ${options.output} does not exist`);
  }
  restrictNewFilesToUser();
  const { takeBackup } = await import('../../main.js');
  const taken = await takeBackup(config, options.url);
  if (typeof taken === 'string') return fail(taken, exitCodes.failure);
  await writeAtomically(options.output, taken.file);
  const { manifest } = taken;
  process.stdout.write(`${JSON.stringify({ output: options.output, via: taken.via, ...manifest })}\n`);
  process.stderr.write(
    `The backup holds the database only, never master.key. Keep the master key (id ${manifest.masterKeyId}) apart from the backups: a restore needs it.\n`,
  );
}

/** Why `dataDir` cannot take a restore (it is a file, or not empty), or undefined when it can. */
async function restoreTargetRefusal(dataDir: string): Promise<string | undefined> {
  if (!(await exists(dataDir))) return undefined;
  const entries = await readdir(dataDir).catch(() => undefined);
  if (entries === undefined) return `${dataDir} is not a directory`;
  if (entries.length > 0) return `${dataDir} is not empty; restore into an empty directory`;
  return undefined;
}

/** `restore`: checks the input and the target, restores, and reports whether the result verifies. */
async function restore(options: { input: string; dataDir: string; masterKey?: string }): Promise<void> {
  if (!(await exists(options.input))) return fail(`${options.input} does not exist`);
  const refusal = await restoreTargetRefusal(options.dataDir);
  if (refusal !== undefined) return fail(refusal);
  restrictNewFilesToUser();
  const file = await readFile(options.input);
  const masterKeyHex =
    options.masterKey === undefined ? undefined : (await readFile(options.masterKey, 'utf8')).trim();
  const { restoreBackup } = await import('../../main.js');
  try {
    const restored = await restoreBackup(file, options.dataDir, masterKeyHex);
    process.stdout.write(`${JSON.stringify(restored)}\n`);
    if (!restored.ledgerVerified || !restored.auditVerified) {
      return fail('the restored database does not verify; do not start a server on it', exitCodes.failure);
    }
    if (masterKeyHex === undefined) {
      process.stderr.write(
        `Restored. Put the master key (id ${restored.masterKeyId}) at ${path.join(options.dataDir, 'master.key')} (or set MASTER_KEY) before starting the server.\n`,
      );
    }
  } catch (error) {
    if (!(error instanceof BackupRefused)) throw error;
    fail(error.message);
  }
}

/** Registers `backup` and `restore`. */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description('write a consistent backup of the embedded database (never the master key) to a file')
    .requiredOption('--output <file>', 'the backup file to write (must not exist)', pathOption)
    .option('--url <url>', 'the running server to ask (default: PUBLIC_URL)')
    .action(backup);

  program
    .command('restore')
    .description('restore a backup into an empty data directory, then verify the ledger and the audit log')
    .requiredOption('--input <file>', 'the backup file', pathOption)
    .requiredOption('--data-dir <dir>', 'an empty or new directory to restore into', pathOption)
    .option(
      '--master-key <file>',
      'the master key file to put beside the database (checked against the backup)',
      pathOption,
    )
    .action(restore);
}
