/**
 * Wiring: config → store → services → http. `startServer` opens the database, applies migrations, builds
 * the services and the app, starts the background jobs and listens; `close` drains requests, stops the
 * jobs and closes the database, in that order.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { type Config, ConfigError } from './config.js';
import { type BackupManifest, BackupRefused, checkBackup, parseBackup } from './domain/backup.js';
import { type Clock, systemClock } from './domain/clock.js';
import { httpLimits, limits } from './domain/limits.js';
import { cliActor } from './domain/operator.js';
import { buildApp } from './http/app.js';
import { httpLoggerOptions } from './http/logger.js';
import type { MetricsSources } from './http/metrics-sources.js';
import { hashOperatorToken } from './http/operator-auth.js';
import { platformRoutes } from './http/routes/index.js';
import type { HttpServices } from './http/services.js';
import { AuditService } from './services/audit/audit-service.js';
import { BackgroundJobs } from './services/background-jobs.js';
import { BackupService } from './services/backups/backup-service.js';
import type { Database } from './services/database.js';
import {
  installMasterKey,
  loadOrCreateMasterKey,
  loadOrCreateOperatorToken,
  operatorTokenFileName,
  readMasterKey,
} from './services/keys/key-files.js';
import { openPlatformSecrets } from './services/keys/platform-keys.js';
import { masterKeyId, parseMasterKeyHex } from './services/keys/secrets.js';
import { prepareDummyPasswordHash } from './services/parties/passwords.js';
import { ChallengeRelay } from './services/terminals/challenge-relay.js';
import { sqlAuditStore } from './store/audit-repository.js';
import { sqlBackupStore } from './store/backup-repository.js';
import { sqlChallengeNotifications } from './store/challenge-notifications.js';
import { DataDirectoryInUseError, dataDirectoryLockFileName } from './store/data-directory-lock.js';
import { type TrackedDatabase, trackDatabaseUse } from './store/database-use.js';
import { sqlLedgerStore } from './store/ledger-repository.js';
import { readPlatformStateCounts } from './store/metrics-repository.js';
import { migrate, pendingMigrationCount, readMigrations } from './store/migrate.js';
import { openDatabase } from './store/open-database.js';
import { openPglite } from './store/pglite-database.js';
import { preparePrivateDataDirectory } from './store/private-data-directory.js';
import { openSharedCounterConnection, type SharedCounterConnection } from './store/redis-client.js';
import { RedisPayerAttemptCounter } from './store/redis-payer-attempt-counter.js';
import { createPlatformServices, type PlatformServices } from './wiring/platform-services.js';
import { sqlPlatformStores } from './wiring/sql-stores.js';

/** A platform opened over its database, without HTTP: what the CLI commands use. */
export interface OpenPlatform {
  readonly config: Config;
  readonly database: Database;
  readonly services: PlatformServices;
  readonly operatorToken: { readonly token: string; readonly created: boolean };
  /** The Redis connection the throttles count through, when `REDIS_URL` is set. */
  readonly sharedCounters: SharedCounterConnection | undefined;
  close(): Promise<void>;
}

/**
 * Opens the connection to the shared counters named by `REDIS_URL`, and waits a moment for it. A Redis out of
 * reach does not stop the start: the connection keeps retrying, and meanwhile each throttle applies its rule
 * for an unreachable counter (docs/scaling.md). `warn` hears it, and never the URL.
 */
async function openSharedCounters(
  config: Config,
  warn: (message: string) => void,
): Promise<SharedCounterConnection | undefined> {
  if (config.redisUrl === undefined) return undefined;
  const connection = openSharedCounterConnection(config.redisUrl, config.redisKeyPrefix, (event, error) =>
    warn(
      event === 'unreachable'
        ? `the shared rate-limit counters (REDIS_URL) cannot be reached: ${error?.message ?? 'no answer'}`
        : 'the shared rate-limit counters (REDIS_URL) answer again',
    ),
  );
  await connection.ready(limits.sharedCounterStartWaitMs).catch(() => undefined);
  return connection;
}

/**
 * Opens the database, applies migrations, loads or creates the keys, and builds the services. The data
 * directory, when anything lives in it, is checked to be private before anything is read from or written
 * to it (a key file included), and created 0700 when missing.
 */
export async function openPlatform(
  config: Config,
  clock: Clock = systemClock,
  warn: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
): Promise<OpenPlatform> {
  const usesDataDir =
    config.databaseUrl === undefined ||
    config.masterKeyHex === undefined ||
    config.operatorToken === undefined;
  if (usesDataDir) await preparePrivateDataDirectory(config.dataDir);
  const database = await openDatabase(config);
  let sharedCounters: SharedCounterConnection | undefined;
  try {
    await migrate(database);
    const masterKeyHex = await loadOrCreateMasterKey(config.dataDir, config.masterKeyHex);
    const operatorToken = await loadOrCreateOperatorToken(config.dataDir, config.operatorToken);
    sharedCounters = await openSharedCounters(config, warn);
    const stores = {
      ...sqlPlatformStores(database),
      ...(sharedCounters === undefined
        ? {}
        : { payerAttemptCounter: new RedisPayerAttemptCounter(sharedCounters.redis) }),
    };
    const secrets = await openPlatformSecrets(
      database,
      stores.platformKeyStore,
      masterKeyHex,
      config.masterKeysRetiredHex,
      clock.nowMs(),
    );
    const services = createPlatformServices({
      database,
      clock,
      configuration: config,
      masterKeyHex,
      retiredMasterKeysHex: config.masterKeysRetiredHex,
      secrets,
      stores,
    });
    const opened = sharedCounters;
    return {
      config,
      database,
      services,
      operatorToken,
      sharedCounters: opened,
      close: async () => {
        await opened?.close();
        await database.close();
      },
    };
  } catch (error) {
    await sharedCounters?.close();
    await database.close();
    throw error;
  }
}

/** The certificate and key files named by TLS_CERT and TLS_KEY, read once at start. */
async function tlsFiles(config: Config): Promise<{ tls?: { cert: Buffer; key: Buffer } }> {
  if (config.tlsCertPath === undefined || config.tlsKeyPath === undefined) return {};
  // Node's own message ("ENOENT: no such file or directory, open …") does not say which setting is wrong.
  const read = (variable: string, file: string) =>
    readFile(file).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(variable, `cannot read ${file}: ${reason}`);
    });
  // Read in turn, not together: with both files missing the error must name TLS_CERT every time, not
  // whichever read happened to fail first.
  const cert = await read('TLS_CERT', config.tlsCertPath);
  const key = await read('TLS_KEY', config.tlsKeyPath);
  return { tls: { cert, key } };
}

/**
 * What `/metrics` reads: the platform-wide state counts, the payment batches, the database's connections
 * in use; and who may read it: the operator token and, when set, METRICS_TOKEN.
 */
export function platformMetrics(
  config: Config,
  services: PlatformServices,
  tracked: TrackedDatabase,
  operatorTokenHash: Uint8Array,
  clock: Clock,
): MetricsSources {
  return {
    tokenHashes: [
      operatorTokenHash,
      ...(config.metricsToken === undefined ? [] : [hashOperatorToken(config.metricsToken)]),
    ],
    stateCounts: () => readPlatformStateCounts(tracked.database, clock.nowMs()),
    batchCounters: () => services.payments.batchStats(),
    databaseConnectionsInUse: tracked.inUse,
    ...(config.databaseUrl === undefined ? {} : { databasePoolSize: config.databasePoolSize }),
  };
}

/** A listening server. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly platform: OpenPlatform;
  close(): Promise<void>;
}

/** Starts the platform and listens on `config.host:config.port`. */
export async function startServer(config: Config, clock: Clock = systemClock): Promise<RunningServer> {
  // Computed before the first request, so that the first login with an unknown payer id costs what any
  // other costs: its timing tells nothing about whether the id exists.
  await prepareDummyPasswordHash();
  // Before the platform opens: a missing certificate must not leave a data directory behind.
  const tls = await tlsFiles(config);
  const logger = pino(httpLoggerOptions(config.logLevel));
  const platform = await openPlatform(config, clock, (message) => logger.warn(message));
  platform.services.payments.reportBatchFailuresTo(logger);
  platform.services.webhooks.reportFailedAttemptsTo(logger);
  platform.services.deliveries.reportFailedAttemptsTo(logger);
  const services: HttpServices = {
    ...platform.services,
    operatorTokenHash: hashOperatorToken(platform.operatorToken.token),
  };
  const tracked = trackDatabaseUse(platform.database);
  const known = (await readMigrations()).map((migration) => migration.name);
  const app = await buildApp({
    config,
    database: tracked.database,
    clock,
    logger,
    metrics: platformMetrics(config, platform.services, tracked, services.operatorTokenHash, clock),
    migrationsPending: () => pendingMigrationCount(tracked.database, known),
    routes: platformRoutes(services),
    idempotencyStore: services.idempotencyStore,
    ...(platform.sharedCounters === undefined ? {} : { sharedCounters: platform.sharedCounters.redis }),
    // The window is one minute (limits.ts says why it stays so): the configured count is the per-minute rate.
    httpLimits: {
      requestsPerWindowPerAddressMax: config.rateLimitPerMinute,
      rateLimitWindowMs: httpLimits.rateLimitWindowMs,
    },
    ...tls,
  });
  const jobs = new BackgroundJobs(services.jobs, logger);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close();
    await platform.close();
    throw error;
  }
  jobs.start();
  // Challenges committed by any server reach this one's streams within a notification, not a poll.
  const relay = new ChallengeRelay(
    sqlChallengeNotifications(platform.database),
    () => services.terminals.refreshStreams(),
    (error) => logger.error({ err: error }, 'pushing announced challenges failed'),
  );
  if (!(await relay.start())) {
    logger.warn('the database offers no notifications: other servers push new challenges by the stream poll');
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    url: `${config.tlsCertPath === undefined ? 'http' : 'https'}://${host}:${port}`,
    platform,
    close: async () => {
      await app.close();
      await relay.stop();
      await jobs.stop();
      await platform.close();
    },
  };
}

const gunzipAsync = promisify(gunzip);
const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A backup file and where it came from. */
export interface BackupFile {
  readonly file: Buffer;
  readonly manifest: BackupManifest;
  readonly via: 'server' | 'directory';
}

/**
 * A backup of the embedded database of `config`: from the data directory itself when no process holds it,
 * else from the running server (`POST /v1/backups` at `serverUrl`, default PUBLIC_URL, with the operator
 * token). Every file is checked as a restore would check it before it is returned. A string is a failure
 * to report.
 */
export async function takeBackup(config: Config, serverUrl?: string): Promise<BackupFile | string> {
  const known = (await readMigrations()).map((migration) => migration.name);
  let database: Database;
  try {
    await preparePrivateDataDirectory(config.dataDir);
    database = await openDatabase({ ...config, databaseUrl: undefined });
  } catch (error) {
    if (!(error instanceof DataDirectoryInUseError)) throw error;
    return backupFromServer(config, serverUrl ?? config.publicUrl, known);
  }
  try {
    const masterKeyHex = config.masterKeyHex ?? (await readMasterKey(config.dataDir));
    if (masterKeyHex === undefined)
      return `no master key in ${config.dataDir}: this is not a platform's data directory`;
    const backups = new BackupService({
      database,
      clock: systemClock,
      store: sqlBackupStore,
      audit: new AuditService(database, systemClock, sqlAuditStore),
      masterKeyId: masterKeyId(parseMasterKeyHex(masterKeyHex)),
    });
    const taken = await backups.create(cliActor);
    checkBackup(parseBackup(taken.file), known, sha256Hex);
    return { ...taken, via: 'directory' };
  } finally {
    await database.close();
  }
}

async function backupFromServer(
  config: Config,
  serverUrl: string,
  known: readonly string[],
): Promise<BackupFile | string> {
  const token =
    config.operatorToken ??
    (await readFile(path.join(config.dataDir, operatorTokenFileName), 'utf8').then(
      (text) => text.trim(),
      () => undefined,
    ));
  if (token === undefined)
    return 'the data directory is in use and no operator token is at hand (OPERATOR_TOKEN)';
  const url = new URL('/v1/backups', serverUrl);
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).catch(
    (error: unknown) => error as Error,
  );
  if (response instanceof Error) {
    return `the data directory is in use, and the server at ${url.origin} cannot be reached (${response.message}); pass --url`;
  }
  if (response.status !== 201)
    return `the server at ${url.origin} answered ${response.status}: ${await response.text()}`;
  const file = Buffer.from(await response.arrayBuffer());
  try {
    const parsed = parseBackup(file);
    checkBackup(parsed, known, sha256Hex);
    return { file, manifest: parsed.manifest, via: 'server' };
  } catch (error) {
    if (error instanceof BackupRefused) return `the server's backup does not check: ${error.message}`;
    throw error;
  }
}

/** What a restore did. */
export interface RestoredBackup {
  readonly dataDir: string;
  readonly schemaVersion: string;
  readonly migrationsApplied: readonly string[];
  readonly ledgerVerified: boolean;
  readonly auditVerified: boolean;
  readonly auditEntries: number;
  readonly masterKeyId: string;
  readonly masterKeyInstalled: boolean;
}

/**
 * Restores a backup file into `dataDir` (which must be empty or absent: the caller checks): checks the file
 * and, when given, that `masterKeyHex` is the key its sealed values need, before writing anything; then
 * loads the image, applies newer migrations, and verifies the ledger and the audit chain. Throws
 * `BackupRefused` for a file or key it will not use.
 */
export async function restoreBackup(
  file: Uint8Array,
  dataDir: string,
  masterKeyHex?: string,
): Promise<RestoredBackup> {
  const backup = parseBackup(file);
  checkBackup(
    backup,
    (await readMigrations()).map((migration) => migration.name),
    sha256Hex,
  );
  if (masterKeyHex !== undefined) {
    const id = (() => {
      try {
        return masterKeyId(parseMasterKeyHex(masterKeyHex));
      } catch {
        throw new BackupRefused('the master key file does not hold a master key (64 hex digits)');
      }
    })();
    if (id !== backup.manifest.masterKeyId) {
      throw new BackupRefused(
        `the master key is not the one the backup needs (id ${backup.manifest.masterKeyId})`,
      );
    }
  }
  const image = await gunzipAsync(backup.payload);
  await preparePrivateDataDirectory(dataDir);
  const loaded = await openPglite({
    dataDir: path.join(dataDir, 'pglite'),
    loadDataDir: new Blob([new Uint8Array(image)]),
  });
  await loaded.close();
  // The image holds the lock file of the process it was taken from, which may still be running elsewhere:
  // it names that process, not this directory's.
  await rm(path.join(dataDir, 'pglite', dataDirectoryLockFileName), { force: true });
  const database = await openDatabase({ dataDir, databaseUrl: undefined, databasePoolSize: 1 });
  try {
    const migrationsApplied = await migrate(database);
    const ledger = await sqlLedgerStore.verifyLedgerIn(database);
    const audit = await new AuditService(database, systemClock, sqlAuditStore).verify();
    if (masterKeyHex !== undefined) await installMasterKey(dataDir, masterKeyHex);
    return {
      dataDir,
      schemaVersion: backup.manifest.schemaVersion,
      migrationsApplied,
      ledgerVerified: ledger.ok,
      auditVerified: audit.ok,
      auditEntries: audit.entries,
      masterKeyId: backup.manifest.masterKeyId,
      masterKeyInstalled: masterKeyHex !== undefined,
    };
  } finally {
    await database.close();
  }
}
