/**
 * Command-line flags of the benchmarks: a wrong one is reported with the usage line and exit code 2,
 * without a stack trace.
 */

/** A wrong command line. */
export class UsageError extends Error {}

/** The flag readers of one command, whose errors end with its usage line. */
export function flagReaders(usage: string) {
  function usageError(message: string): never {
    throw new UsageError(`${message}\n${usage}`);
  }

  /** A number from `min` to `max`, or `fallback` when the flag is absent. */
  function numberFlag(
    name: string,
    raw: string | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      usageError(`--${name} must be a number between ${min} and ${max}, got "${raw}"`);
    }
    return value;
  }

  /** A whole number from `min` to `max`, or `fallback` when the flag is absent. */
  function wholeFlag(
    name: string,
    raw: string | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      usageError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  }

  return { usageError, numberFlag, wholeFlag };
}
