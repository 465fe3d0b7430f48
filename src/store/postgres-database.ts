/**
 * The production engine: a PostgreSQL server through the `postgres` driver, with a pool of bounded size.
 * Statements with parameters are prepared once per connection and reused (parsed once; planned per run).
 */
import postgres from 'postgres';
import { limits } from '../domain/limits.js';
import { retryableSqlStates, sqlState } from '../domain/sql-state.js';
import type { Database, Row, SqlExecutor } from '../services/database.js';
import {
  databaseUnavailable,
  neverReachedPrimary,
  unavailableBackoff,
  unavailableError,
} from './postgres-availability.js';
import { guardedBegin } from './postgres-transaction.js';
import { normalizeParameters, retryBackoff } from './sql-parameters.js';

/** Options for the pool. */
export interface PostgresOpenOptions {
  readonly url: string;
  readonly poolSize?: number;
  /** Seconds to wait for a connection before failing; a server that is down fails fast and loudly. */
  readonly connectTimeoutSeconds?: number;
}

type Sql = postgres.Sql<{ bigint: bigint }>;

function executorOf(sql: postgres.Sql | postgres.TransactionSql): SqlExecutor {
  return {
    query: async <T extends Row>(text: string, params?: readonly unknown[]) => {
      const rows = await sql.unsafe(text, normalizeParameters(params) as postgres.ParameterOrJSON<never>[], {
        prepare: params !== undefined && params.length > 0,
      });
      return rows as unknown as T[];
    },
    script: async (text: string) => {
      await sql.unsafe(text);
    },
  };
}

/** Opens a pool and checks that the server answers; throws if it cannot be reached. */
export async function openPostgres(options: PostgresOpenOptions): Promise<PostgresDatabase> {
  const database = new PostgresDatabase(driverUrls(options.url), (url) => openPool(url, options));
  await database.query('SELECT 1');
  return database;
}

function openPool(url: string, options: PostgresOpenOptions): Sql {
  return postgres(url, {
    max: Math.min(options.poolSize ?? 10, limits.databasePoolSizeMax),
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    onnotice: () => {},
    types: { bigint: postgres.BigInt },
    // Every statement is planned for its own parameters. The hot statements are set-oriented over arrays
    // whose length follows the load (a batch of 1 or of 500), and a generic plan made once per connection
    // keeps the table sizes of that moment: one made while `payments` was young kept scanning it whole as
    // it grew (a cost per statement that grew with the table). Planning costs tens of microseconds, shared
    // by every operation of a batch.
    connection: { plan_cache_mode: 'force_custom_plan' },
  }) as unknown as Sql;
}

/**
 * The URLs the driver gets: without `target_session_attrs`, and, for a URL with several hosts, one per
 * host that comes first (the list rotated). The driver judges `read-write` by
 * `default_transaction_read_only`, which a hot standby reports as `off`, and with `primary` it keeps
 * cycling through the hosts while none is a primary, so every request would hang through a failover
 * instead of being answered. The platform finds the primary itself: a write refused by a standby (25006)
 * replaces the pool by one whose connections try the next host first (`leaveStandby`).
 */
export function driverUrls(url: string): string[] {
  const plain = url.replace(
    /([?&])target_session_attrs=[^&]*(&|$)/,
    (_match, before: string, after: string) => (after === '&' ? before : ''),
  );
  const hostList = /^[a-z]+:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(plain)?.[1] ?? '';
  const hosts = hostList.split(',');
  return hosts.map((_host, first) =>
    plain.replace(hostList, [...hosts.slice(first), ...hosts.slice(0, first)].join(',')),
  );
}

/** True for a write a standby refused: the connection is on a standby. */
function refusedByStandby(error: unknown): boolean {
  return sqlState(error) === '25006';
}

/** The Database interface over a `postgres` pool. */
export class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  private sql: Sql;
  private executor: SqlExecutor;
  /** Which of `urls` the current pool uses. */
  private urlIndex = 0;

  constructor(
    private readonly urls: readonly string[],
    private readonly openPool: (url: string) => Sql,
  ) {
    this.sql = openPool(urls[0]!);
    this.executor = executorOf(this.sql as unknown as postgres.Sql);
  }

  /**
   * Runs `call` against the primary. A failure that proves the call never ran on a primary (no connection,
   * a standby refusing the write) is retried a bounded number of times, which spans the first second and a
   * half of a failover; any other sign of a missing primary, including a connection lost mid-call whose outcome is
   * unknown, becomes the catalogued 503 without a replay.
   */
  private async onPrimary<T>(call: (sql: Sql, executor: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const sql = this.sql;
      try {
        return await call(sql, this.executor);
      } catch (error) {
        if (refusedByStandby(error)) this.leaveStandby(sql);
        if (neverReachedPrimary(error) && attempt < limits.databaseUnavailableRetriesMax) {
          await unavailableBackoff(attempt);
          continue;
        }
        if (databaseUnavailable(error)) throw unavailableError(error);
        throw error;
      }
    }
  }

  /**
   * Replaces a pool whose connection landed on a standby by one that tries the next host first. The old
   * pool is ended gently: calls running on it finish. A pool already replaced by a concurrent call is left
   * alone, so a burst of refused writes moves on by one host, not by one per write.
   */
  private leaveStandby(refusedOn: Sql): void {
    if (refusedOn !== this.sql || this.urls.length === 1) return;
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.sql = this.openPool(this.urls[this.urlIndex]!);
    this.executor = executorOf(this.sql as unknown as postgres.Sql);
    (refusedOn as unknown as postgres.Sql).end({ timeout: 5 }).catch(() => undefined);
  }

  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return this.onPrimary((_sql, executor) => executor.query<T>(text, params));
  }

  script(text: string): Promise<void> {
    return this.onPrimary((_sql, executor) => executor.script(text));
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: { retriesMax?: number }): Promise<T> {
    const retriesMax = options?.retriesMax ?? limits.transactionRetriesMax;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.onPrimary((sql) =>
          guardedBegin(sql as unknown as postgres.Sql, (tx) => executorOf(tx), work),
        );
      } catch (error) {
        const state = sqlState(error);
        if (state === undefined || !retryableSqlStates.has(state) || attempt >= retriesMax) throw error;
        await retryBackoff(attempt);
      }
    }
  }

  async listen(
    channel: string,
    onNotification: (payload: string) => void,
    onListening?: () => void,
  ): Promise<() => Promise<void>> {
    // The driver keeps one dedicated connection for every channel and re-listens after a reconnect,
    // calling `onListening` each time, so that the caller can catch up on what it missed meanwhile.
    const { unlisten } = await (this.sql as unknown as postgres.Sql).listen(
      channel,
      onNotification,
      onListening,
    );
    return unlisten;
  }

  /** Not here: a PostgreSQL server is backed up with pg_basebackup or pg_dump (docs/operations.md). */
  async snapshot(): Promise<Uint8Array> {
    throw new Error('a PostgreSQL database is backed up with its own tools, not by the platform');
  }

  async close(): Promise<void> {
    await (this.sql as unknown as postgres.Sql).end({ timeout: 5 });
  }
}
