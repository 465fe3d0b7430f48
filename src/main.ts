/**
 * Wiring: config → store → services → http. `startServer` opens the database, applies migrations, builds
 * the services and the app, starts the background jobs and listens; `close` drains requests, stops the
 * jobs and closes the database, in that order.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';
import { type Clock, systemClock } from './domain/clock.js';
import { buildApp } from './http/app.js';
import { httpLoggerOptions } from './http/logger.js';
import { hashOperatorToken } from './http/operator-auth.js';
import { platformRoutes } from './http/routes/index.js';
import type { HttpServices } from './http/services.js';
import { BackgroundJobs } from './services/background-jobs.js';
import { loadOrCreateMasterKey, loadOrCreateOperatorToken } from './services/key-files.js';
import { prepareDummyPasswordHash } from './services/passwords.js';
import { openPlatformSecrets } from './services/platform-keys.js';
import { createPlatformServices, type PlatformServices } from './services/platform-services.js';
import type { Database } from './store/database.js';
import { migrate } from './store/migrate.js';
import { openDatabase } from './store/open-database.js';
import { preparePrivateDataDirectory } from './store/private-data-directory.js';
import { sqlPlatformStores } from './store/stores.js';

/** A platform opened over its database, without HTTP: what the CLI commands use. */
export interface OpenPlatform {
  readonly config: Config;
  readonly database: Database;
  readonly services: PlatformServices;
  readonly operatorToken: { readonly token: string; readonly created: boolean };
  close(): Promise<void>;
}

/**
 * Opens the database, applies migrations, loads or creates the keys, and builds the services. The data
 * directory, when anything lives in it, is checked to be private before anything is read from or written
 * to it (a key file included), and created 0700 when missing.
 */
export async function openPlatform(config: Config, clock: Clock = systemClock): Promise<OpenPlatform> {
  const usesDataDir =
    config.databaseUrl === undefined ||
    config.masterKeyHex === undefined ||
    config.operatorToken === undefined;
  if (usesDataDir) await preparePrivateDataDirectory(config.dataDir);
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const masterKeyHex = await loadOrCreateMasterKey(config.dataDir, config.masterKeyHex);
    const operatorToken = await loadOrCreateOperatorToken(config.dataDir, config.operatorToken);
    const stores = sqlPlatformStores(database);
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
    return { config, database, services, operatorToken, close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** The certificate and key files named by TLS_CERT and TLS_KEY, read once at start. */
async function tlsFiles(config: Config): Promise<{ tls?: { cert: Buffer; key: Buffer } }> {
  if (config.tlsCertPath === undefined || config.tlsKeyPath === undefined) return {};
  const [cert, key] = await Promise.all([readFile(config.tlsCertPath), readFile(config.tlsKeyPath)]);
  return { tls: { cert, key } };
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
  const platform = await openPlatform(config, clock);
  const logger = pino(httpLoggerOptions(config.logLevel));
  platform.services.payments.reportBatchFailuresTo(logger);
  const services: HttpServices = {
    ...platform.services,
    operatorTokenHash: hashOperatorToken(platform.operatorToken.token),
  };
  const app = await buildApp({
    config,
    database: platform.database,
    clock,
    logger,
    routes: platformRoutes(services),
    idempotencyStore: services.idempotencyStore,
    // The window stays one minute, so the configured count is exactly the per-minute rate.
    httpLimits: { requestsPerWindowPerAddressMax: config.rateLimitPerMinute, rateLimitWindowMs: 60_000 },
    ...(await tlsFiles(config)),
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
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    url: `${config.tlsCertPath === undefined ? 'http' : 'https'}://${host}:${port}`,
    platform,
    close: async () => {
      await app.close();
      await jobs.stop();
      await platform.close();
    },
  };
}
