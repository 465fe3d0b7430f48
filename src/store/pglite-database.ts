/**
 * The embedded engine: PGlite, PostgreSQL compiled to WebAssembly, with its data in a directory.
 * PGlite runs one statement at a time; its transaction mutex serializes concurrent transactions,
 * which is why throughput here is bounded by one core.
 */
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { limits } from '../domain/limits.js';
import { retryableSqlStates, sqlState } from '../domain/sql-state.js';
import type { Database, Row, SqlExecutor } from '../services/database.js';
import { normalizeParameters, retryBackoff } from './sql-parameters.js';

const int8Oid = 20;

/** Options for opening PGlite: a data directory (persistent) or none (in memory), or a dump to load. */
export interface PgliteOpenOptions {
  readonly dataDir?: string;
  readonly loadDataDir?: Blob | File;
}

/** Opens PGlite with `bigint` parsing of int8 columns. */
export async function openPglite(options: PgliteOpenOptions = {}): Promise<PgliteDatabase> {
  const pgliteOptions: PGliteOptions = {
    parsers: { [int8Oid]: (value: string) => BigInt(value) },
    // The strongest durability PGlite offers: every commit is written to the operating system before it is
    // acknowledged (not lazily). PGlite's Node file system never calls fsync, so a commit survives a crash
    // of this process (kill -9) but not a crash of the machine; docs/reliability.md has the measurement.
    relaxedDurability: false,
  };
  if (options.dataDir !== undefined) pgliteOptions.dataDir = options.dataDir;
  if (options.loadDataDir !== undefined) pgliteOptions.loadDataDir = options.loadDataDir;
  const pg = await PGlite.create(pgliteOptions);
  return new PgliteDatabase(pg);
}

/** The Database interface over one PGlite instance. */
export class PgliteDatabase implements Database {
  readonly engine = 'pglite' as const;

  constructor(readonly pg: PGlite) {}

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    const result = await this.pg.query<T>(sql, normalizeParameters(params));
    return result.rows;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: { retriesMax?: number }): Promise<T> {
    const retriesMax = options?.retriesMax ?? limits.transactionRetriesMax;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pg.transaction(async (tx) => {
          const executor: SqlExecutor = {
            query: async <R extends Row>(sql: string, params?: readonly unknown[]) =>
              (await tx.query<R>(sql, normalizeParameters(params))).rows,
            script: async (sql: string) => {
              await tx.exec(sql);
            },
          };
          return work(executor);
        });
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
    // One instance, one process: the connection never drops, so it is listening from here on.
    const unlisten = await this.pg.listen(channel, onNotification);
    onListening?.();
    return unlisten;
  }

  async script(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  /**
   * A checkpoint, so that the image needs no recovery to open, then the data directory as a tar. PGlite
   * copies it holding its query lock, so no statement changes a file meanwhile; a transaction open at that
   * moment is rolled back when the image is opened, as after a crash.
   */
  async snapshot(): Promise<Uint8Array> {
    await this.pg.exec('CHECKPOINT');
    const image = (await this.pg.dumpDataDir('none')) as Blob;
    return new Uint8Array(await image.arrayBuffer());
  }

  /** A dump of the whole data directory, to clone this database quickly (tests). */
  async dump(): Promise<Blob> {
    return (await this.pg.dumpDataDir('none')) as Blob;
  }

  async close(): Promise<void> {
    await this.pg.close();
  }
}
