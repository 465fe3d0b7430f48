/**
 * The transaction port: what services need of a database, declared here and implemented by `store/`
 * (the embedded PGlite and a PostgreSQL server, one SQL dialect). Services see only this interface; every
 * `bigint` column arrives as a JavaScript `bigint` on both engines, and `bigint` parameters are sent as
 * decimal text so that neither driver rounds them.
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
