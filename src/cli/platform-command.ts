/**
 * Shared plumbing of CLI commands that need the platform: read the configuration, open the platform,
 * run one service call, close. Expected failures print one line and set a non-zero exit code.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { CountersignError } from '../domain/errors.js';
import type { OpenPlatform } from '../main.js';

/** Exit codes: 1 for an expected failure (e.g. a ledger that does not verify), 2 for bad input or configuration. */
export const exitCodes = Object.freeze({ failure: 1, badInput: 2 });

/** Reads the configuration, or prints the variable at fault and sets exit code 2. */
export function configOrExit(): Config | undefined {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`countersign: configuration error: ${error.message}\n`);
    process.exitCode = exitCodes.badInput;
    return undefined;
  }
}

/**
 * Makes every file this process creates from now on private to its user (umask 077): the embedded
 * database's files are created by PGlite with the default modes, which would otherwise let every local
 * user read them. Called by the commands that open the platform, before they open it.
 */
export function restrictNewFilesToUser(): void {
  process.umask(0o077);
}

/**
 * Opens the platform, runs `work`, and closes it whatever happens. `refusal`, when given, looks at the
 * configuration first: a reason it returns is printed (exit code 2) and nothing is opened or created.
 */
export async function withPlatform(
  work: (platform: OpenPlatform) => Promise<void>,
  refusal?: (config: Config) => string | undefined,
): Promise<void> {
  const config = configOrExit();
  if (config === undefined) return;
  const refused = refusal?.(config);
  if (refused !== undefined) {
    process.stderr.write(`countersign: ${refused}\n`);
    process.exitCode = exitCodes.badInput;
    return;
  }
  restrictNewFilesToUser();
  const staging = await stagedDataDirectory(config);
  // Loaded here rather than at the top: the platform's modules (database engines, HTTP, services) take a
  // second or two to load, which `--help`, `ocra` and a usage error should not have to wait for.
  const { openPlatform } = await import('../main.js');
  let succeeded = false;
  try {
    const platform = await openPlatform(
      staging === undefined ? config : { ...config, dataDir: staging.path },
    );
    try {
      const exitCodeBefore = process.exitCode;
      await work(platform);
      succeeded = process.exitCode === exitCodeBefore || process.exitCode === 0;
    } catch (error) {
      if (!(error instanceof CountersignError)) throw error;
      process.stderr.write(
        `countersign: ${error.code}: ${error.message}${error.param ? ` (${error.param})` : ''}\n`,
      );
      process.exitCode = error.status >= 500 ? exitCodes.failure : exitCodes.badInput;
    } finally {
      await platform.close();
    }
  } finally {
    if (staging !== undefined) await (succeeded ? staging.keep() : staging.discard());
  }
}

/** A data directory being created by a command: kept as DATA_DIR once the command succeeded, else removed. */
interface StagedDataDirectory {
  readonly path: string;
  keep(): Promise<void>;
  discard(): Promise<void>;
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/**
 * A failed command must leave no data directory and no master key behind (docs/operations.md): an operator
 * who mistyped DATA_DIR would otherwise find a new, empty platform with a fresh master key there, and a
 * later start would run on it. So when the command would create DATA_DIR, the platform is opened in a
 * sibling directory of a random name that nobody else opens, which becomes DATA_DIR in one rename once the
 * command succeeded; on failure it is removed with any parent directory the command had to create. Returns
 * undefined when DATA_DIR exists already or is not used (PostgreSQL with both keys in the environment).
 */
async function stagedDataDirectory(config: Config): Promise<StagedDataDirectory | undefined> {
  const usesDataDir =
    config.databaseUrl === undefined ||
    config.masterKeyHex === undefined ||
    config.operatorToken === undefined;
  if (!usesDataDir || (await exists(config.dataDir))) return undefined;
  let createdAncestor: string | undefined;
  for (let ancestor = path.dirname(config.dataDir); !(await exists(ancestor)); ) {
    createdAncestor = ancestor;
    const parent = path.dirname(ancestor);
    if (parent === ancestor) break;
    ancestor = parent;
  }
  if (createdAncestor !== undefined)
    await mkdir(path.dirname(config.dataDir), { recursive: true, mode: 0o700 });
  const staging = `${config.dataDir}.creating-${randomBytes(6).toString('hex')}`;
  return {
    path: staging,
    // rename refuses to replace a non-empty directory: a DATA_DIR made meanwhile by another process stays.
    keep: () => rename(staging, config.dataDir),
    discard: () => rm(createdAncestor ?? staging, { recursive: true, force: true }),
  };
}

/** Prints a JSON value on one line (bigints as decimal strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}
