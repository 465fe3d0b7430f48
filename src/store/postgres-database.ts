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
  const sql = postgres(options.url, {
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

/** The Database interface over a `postgres` pool. */
export class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  private readonly executor: SqlExecutor;

  constructor(readonly sql: Sql) {
    this.executor = executorOf(sql as unknown as postgres.Sql);
  }

  query<T extends Row = Row>(text: string, params?: readonly unknown[]): Promise<T[]> {
    return this.executor.query<T>(text, params);
  }

  script(text: string): Promise<void> {
    return this.executor.script(text);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: { retriesMax?: number }): Promise<T> {
    const retriesMax = options?.retriesMax ?? limits.transactionRetriesMax;
    for (let attempt = 0; ; attempt++) {
      try {
        return (await (this.sql as unknown as postgres.Sql).begin((tx) => work(executorOf(tx)))) as T;
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
