/**
 * One SQL dialect over two engines: the embedded PGlite and a PostgreSQL server. Services see only this
 * interface; every `bigint` column arrives as a JavaScript `bigint` on both engines, and `bigint`
 * parameters are sent as decimal text so that neither driver rounds them.
 */

/** A row as the engines return it: column name to value. */
export type Row = Record<string, unknown>;

/** Runs SQL inside or outside a transaction. Parameters are `$1`, `$2`, … placeholders. */
export interface SqlExecutor {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a script of several statements without parameters (migrations). */
  script(sql: string): Promise<void>;
}

/** Options of a transaction. */
export interface TransactionOptions {
  /** Retries after a serialization failure or deadlock; defaults to `limits.transactionRetriesMax`. */
  readonly retriesMax?: number;
}

/** A database: an executor, transactions with bounded retries, a multi-statement script runner, close. */
export interface Database extends SqlExecutor {
  readonly engine: 'pglite' | 'postgres';
  /**
   * Runs `work` in one transaction and commits it. A serialization failure (40001) or deadlock (40P01)
   * rolls back and runs `work` again, a bounded number of times; `work` must therefore be free of side
   * effects outside the transaction.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * A consistent image of the whole embedded database (a tar of PGlite's data directory), taken while no
   * statement runs; the embedded engine only: PostgreSQL is backed up with its own tools.
   */
  snapshot(): Promise<Uint8Array>;
  /**
   * Calls `onNotification` with the payload of every notification on `channel` (PostgreSQL LISTEN), from
   * any session, once the transaction that sent it committed; `onListening` each time the listening
   * connection is (re)established, since notifications sent while it was down are lost. Resolves to the
   * function that stops listening. Absent on an engine without notifications.
   */
  listen?(
    channel: string,
    onNotification: (payload: string) => void,
    onListening?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

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

function scalarParameter(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function arrayElement(value: unknown): unknown {
  // Array elements travel as text; the SQL casts them (`$1::bigint[]`, booleans as `$1::text[]::boolean[]`
  // because one driver serializes a boolean array element by element and reads 'true' as false).
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : String(value);
}

/**
 * Parameters as both drivers accept them: bigints as decimal text, arrays as arrays of text (the
 * statement casts them), everything else unchanged.
 */
export function normalizeParameters(params: readonly unknown[] | undefined): unknown[] {
  if (params === undefined) return [];
  return params.map((value) => (Array.isArray(value) ? value.map(arrayElement) : scalarParameter(value)));
}

/** Waits a little before a retry, with jitter so that two contending transactions drift apart. */
export function retryBackoff(attempt: number): Promise<void> {
  const ms = Math.min(50, 2 ** attempt) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
