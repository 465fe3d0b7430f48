/**
 * Which failures of a transaction are conflicts that running it again may resolve: a serialization
 * failure (SQLSTATE 40001) or a deadlock (40P01). One rule shared by the engines in `store/`, which retry
 * on them, and by the HTTP layer, which answers 503 "retry" when the retries ran out. Pure: it only reads
 * the code a driver error carries.
 */

/** SQLSTATE codes after which a transaction is safe to run again. */
export const retryableSqlStates: ReadonlySet<string> = new Set(['40001', '40P01']);

/** The SQLSTATE of a driver error, if it carries one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
