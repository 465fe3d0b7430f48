/**
 * Counts the statements and transactions a database is running at this moment: what `/metrics` reports as
 * the pool's use. Neither driver exposes its pool, so the count is taken at the one interface every caller
 * goes through; each running statement or transaction holds one connection.
 */
import type { Database, SqlExecutor, TransactionOptions } from '../services/database.js';

/** A database whose calls in progress are counted. */
export interface TrackedDatabase {
  readonly database: Database;
  /** Statements and transactions running now, across all callers. */
  inUse(): number;
}

/** Wraps `database`; the wrapper behaves exactly like it, and counts. */
export function trackDatabaseUse(database: Database): TrackedDatabase {
  let running = 0;
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    running += 1;
    try {
      return await work();
    } finally {
      running -= 1;
    }
  };
  const tracked: Database = {
    engine: database.engine,
    query: (sql, params) => counted(() => database.query(sql, params)),
    script: (sql) => counted(() => database.script(sql)),
    transaction: <T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions) =>
      counted(() => database.transaction(work, options)),
    snapshot: () => database.snapshot(),
    close: () => database.close(),
  };
  return { database: tracked, inUse: () => running };
}
