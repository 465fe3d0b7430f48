/**
 * Shared plumbing of CLI commands that need the platform: read the configuration, open the platform,
 * run one service call, close. Expected failures print one line and set a non-zero exit code.
 */
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
  // Loaded here rather than at the top: the platform's modules (database engines, HTTP, services) take a
  // second or two to load, which `--help`, `ocra` and a usage error should not have to wait for.
  const { openPlatform } = await import('../main.js');
  const platform = await openPlatform(config);
  try {
    await work(platform);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    process.stderr.write(
      `countersign: ${error.code}: ${error.message}${error.param ? ` (${error.param})` : ''}\n`,
    );
    process.exitCode = error.status >= 500 ? exitCodes.failure : exitCodes.badInput;
  } finally {
    await platform.close();
  }
}

/** Prints a JSON value on one line (bigints as decimal strings). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}
