/**
 * A bench target: a fresh database on one engine, seeded, with a server process started on it, and its
 * removal afterwards. PostgreSQL: `countersign_bench_<random>` created on the given server and dropped at
 * the end. PGlite: a temporary data directory, seeded before the server opens it (PGlite allows one
 * process per data directory), deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../../src/domain/clock.js';
import { AuditService } from '../../src/services/audit/audit-service.js';
import type { Database } from '../../src/services/database.js';
import { createSecrets } from '../../src/services/keys/secrets.js';
import { LedgerService } from '../../src/services/ledger/ledger-service.js';
import { sqlAuditStore } from '../../src/store/audit-repository.js';
import { sqlLedgerStore } from '../../src/store/ledger-repository.js';
import { openPglite } from '../../src/store/pglite-database.js';
import { openPostgres } from '../../src/store/postgres-database.js';
import { type SeedPlan, type SeedTimings, seedDatabase } from './seed.js';
import { type ServerProcess, startServerProcess } from './server-process.js';

export type EngineName = 'postgres' | 'pglite';

/** What a target is made of. */
export interface TargetPlan extends Omit<SeedPlan, 'masterKeyHex' | 'benchSecret'> {
  readonly engine: EngineName;
  /** The server to create the bench database on (PostgreSQL only). */
  readonly adminUrl?: string;
  readonly poolSize: number;
  /** Extra environment of the server process (e.g. to compare settings). */
  readonly serverEnvironment: Readonly<Record<string, string>>;
  /** Extra arguments of the server's node process (e.g. `--cpu-prof`). */
  readonly serverNodeArguments: readonly string[];
  /** Server processes sharing the database (PostgreSQL only; PGlite allows one process); default 1. */
  readonly servers?: number;
}

/** Integrity of the database after a run. */
export interface TargetVerification {
  readonly ledgerOk: boolean;
  readonly failedLedgerChecks: readonly string[];
  readonly auditOk: boolean;
  readonly auditEntries: number;
  readonly paymentsByStatus: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** A seeded database with a running server. */
export interface Target {
  readonly plan: TargetPlan;
  /** The first of `servers`. */
  readonly server: ServerProcess;
  readonly servers: readonly ServerProcess[];
  readonly benchSecret: string;
  /** The master key the server was given (the seeding sealed with it too). */
  readonly masterKeyHex: string;
  /** The bench database's URL (PostgreSQL only). */
  readonly databaseUrl: string | undefined;
  /** The database name whose backends count as this run's database CPU (PostgreSQL only). */
  readonly databaseName: string | undefined;
  readonly seed: SeedTimings;
  readonly settings: Readonly<Record<string, string>>;
  /** Stops the server, checks the ledger and the audit chain, and removes the database. */
  finish(): Promise<TargetVerification>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function postgresSettings(database: Database): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  for (const name of [
    'server_version',
    'fsync',
    'synchronous_commit',
    'wal_sync_method',
    'shared_buffers',
    'commit_delay',
  ]) {
    const [row] = await database.query<Record<string, string>>(`SHOW ${name}`);
    settings[name] = row?.[name] ?? 'unknown';
  }
  return settings;
}

async function verify(database: Database): Promise<TargetVerification> {
  const started = performance.now();
  const ledger = await new LedgerService(
    database,
    systemClock,
    sqlLedgerStore,
    createSecrets(randomBytes(32).toString('hex')).keyedHash,
  ).verify();
  const audit = await new AuditService(database, systemClock, sqlAuditStore).verify();
  const rows = await database.query<{ status: string; count: bigint }>(
    'SELECT status, count(*) AS count FROM payments GROUP BY status',
  );
  return {
    ledgerOk: ledger.ok,
    failedLedgerChecks: ledger.checks.filter((check) => !check.ok).map((check) => check.name),
    auditOk: audit.ok,
    auditEntries: audit.entries,
    paymentsByStatus: Object.fromEntries(rows.map((row) => [row.status, Number(row.count)])),
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** Creates, seeds and starts a target. */
export async function openTarget(plan: TargetPlan, progress: (line: string) => void): Promise<Target> {
  const masterKeyHex = randomBytes(32).toString('hex');
  const benchSecret = randomBytes(32).toString('hex');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-bench-'));
  const seedPlan: SeedPlan = { ...plan, masterKeyHex, benchSecret };
  const cleanups: (() => Promise<void>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  };
  try {
    let databaseUrl: string | undefined;
    let databaseName: string | undefined;
    let settings: Record<string, string>;
    let seed: SeedTimings;
    let reopen: () => Promise<Database>;
    if (plan.engine === 'postgres') {
      if (plan.adminUrl === undefined) throw new Error('a PostgreSQL target needs a database URL');
      const admin = await openPostgres({ url: plan.adminUrl, poolSize: 1 });
      databaseName = `countersign_bench_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${databaseName}`);
      const name = databaseName;
      cleanups.push(async () => {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      });
      databaseUrl = withDatabaseName(plan.adminUrl, databaseName);
      const url = databaseUrl;
      reopen = () => openPostgres({ url, poolSize: 4 });
    } else {
      const directory = path.join(dataDir, 'pglite');
      reopen = () => openPglite({ dataDir: directory });
    }
    const database = await reopen();
    try {
      seed = await seedDatabase(database, seedPlan, progress);
      settings = database.engine === 'postgres' ? await postgresSettings(database) : { engine: 'pglite' };
    } finally {
      await database.close();
    }
    const environment = {
      DATA_DIR: dataDir,
      MASTER_KEY: masterKeyHex,
      OPERATOR_TOKEN: `cs_op_${randomBytes(24).toString('base64url')}`,
      LOG_LEVEL: 'warn',
      // The bench's clients share one address and reuse each payer often: neither throttle may bind.
      RATE_LIMIT_PER_MINUTE: '10000000',
      RATE_LIMIT_PER_PAYER: '1000000',
      DATABASE_POOL_SIZE: String(plan.poolSize),
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
      ...plan.serverEnvironment,
    };
    const count = plan.servers ?? 1;
    if (count > 1 && plan.engine !== 'postgres') throw new Error('several servers need PostgreSQL');
    // One after the other: each applies the migrations check and opens its pool on its own.
    const servers: ServerProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(servers.map((started) => started.stop()));
    });
    for (let index = 0; index < count; index += 1) {
      servers.push(await startServerProcess(environment, plan.serverNodeArguments));
    }
    const server = servers[0]!;
    const finish = async (): Promise<TargetVerification> => {
      try {
        await Promise.all(servers.map((started) => started.stop()));
        const reopened = await reopen();
        try {
          return await verify(reopened);
        } finally {
          await reopened.close();
        }
      } finally {
        await cleanUp();
      }
    };
    return {
      plan,
      server,
      servers,
      benchSecret,
      masterKeyHex,
      databaseUrl,
      databaseName,
      seed,
      settings,
      finish,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
