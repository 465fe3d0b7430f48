/**
 * The production engine: a PostgreSQL server through the `postgres` driver, with a pool of bounded size.
 * Statements with parameters are prepared once per connection and reused (parsed once; planned per run).
 */
import postgres from 'postgres';
import { limits } from '../domain/limits.js';
import {
  type Database,
  normalizeParameters,
  type Row,
  retryableSqlStates,
  retryBackoff,
  type SqlExecutor,
  sqlState,
} from './database.js';
import {
  databaseUnavailable,
  neverReachedPrimary,
  unavailableBackoff,
  unavailableError,
} from './postgres-availability.js';

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
  const sql = postgres(driverUrl(options.url), {
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
  const database = new PostgresDatabase(sql);
  await database.query('SELECT 1');
  return database;
}

/**
 * The URL as the driver gets it: without `target_session_attrs`. The driver judges `read-write` by
 * `default_transaction_read_only`, which a hot standby reports as `off`, and with `primary` it keeps
 * cycling through the hosts while none is a primary, so every request would hang through a failover
 * instead of being answered. The platform finds the primary itself: a write refused by a standby (25006)
 * closes that connection, and the pool's next one is opened to the next host (`onPrimary`).
 */
function driverUrl(url: string): string {
  return url.replace(/([?&])target_session_attrs=[^&]*(&|$)/, (_match, before: string, after: string) =>
    after === '&' ? before : '',
  );
}

/** True for a write a standby refused: the connection is on a standby. */
function refusedByStandby(error: unknown): boolean {
  return sqlState(error) === '25006';
}

/** The Database interface over a `postgres` pool. */
export class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  private readonly executor: SqlExecutor;

  constructor(readonly sql: Sql) {
    this.executor = executorOf(sql as unknown as postgres.Sql);
  }

  /**
   * Runs `call` against the primary. A failure that proves the call never ran on a primary (no connection,
   * a standby refusing the write) is retried a bounded number of times, which spans the first second of a
   * failover; any other sign of a missing primary, including a connection lost mid-call whose outcome is
   * unknown, becomes the catalogued 503 without a replay.
   */
  private async onPrimary<T>(call: () => Promise<T>): Promise<T> {
    let leftStandby = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        // The session just closed on a standby (57P01) may still carry the next call: nothing ran there.
        const retryable = neverReachedPrimary(error) || (leftStandby && sqlState(error) === '57P01');
        leftStandby = refusedByStandby(error);
        if (leftStandby) await this.leaveStandby();
        if (retryable && attempt < limits.databaseUnavailableRetriesMax) {
          await unavailableBackoff(attempt);
          continue;
        }
        if (databaseUnavailable(error)) throw unavailableError(error);
        throw error;
      }
    }
  }

  /**
   * Closes a pooled connection that is on a standby, so that the pool reopens it to the next host. The
   * statement ends its own session only where the server is in recovery; on a primary it does nothing.
   * Which pooled connection runs it is the pool's choice, so each refused write closes at most one.
   */
  private async leaveStandby(): Promise<void> {
    await this.executor
      .query('SELECT pg_terminate_backend(pg_backend_pid()) WHERE pg_is_in_recovery()')
      .catch(() => undefined);
  }

  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return this.onPrimary(() => this.executor.query<T>(text, params));
  }

  script(text: string): Promise<void> {
    return this.onPrimary(() => this.executor.script(text));
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: { retriesMax?: number }): Promise<T> {
    const retriesMax = options?.retriesMax ?? limits.transactionRetriesMax;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.onPrimary(() =>
          (this.sql as unknown as postgres.Sql).begin((tx) => work(executorOf(tx))),
        )) as T;
      } catch (error) {
        const state = sqlState(error);
        if (state === undefined || !retryableSqlStates.has(state) || attempt >= retriesMax) throw error;
        await retryBackoff(attempt);
      }
    }
  }

  /** Not here: a PostgreSQL server is backed up with pg_basebackup or pg_dump (docs/operations.md). */
  async snapshot(): Promise<Uint8Array> {
    throw new Error('a PostgreSQL database is backed up with its own tools, not by the platform');
  }

  async close(): Promise<void> {
    await (this.sql as unknown as postgres.Sql).end({ timeout: 5 });
  }
}
