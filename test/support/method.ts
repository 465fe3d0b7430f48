// Builds the whole platform over a fresh test database, a manual clock and a random master key, for inject tests.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import type { RoutePlugin } from '../../src/http/dependencies.js';
import { hashOperatorToken } from '../../src/http/operator-auth.js';
import { platformRoutes } from '../../src/http/routes/index.js';
import type { HttpServices } from '../../src/http/services.js';
import { createPlatformServices, type PlatformServices } from '../../src/services/platform-services.js';
import { sqlPlatformStores } from '../../src/store/stores.js';
import { type EngineName, openTestDatabase, type TestDatabase } from './engines.js';

/** A running platform for one test file. */
export interface TestPlatform {
  readonly test: TestDatabase;
  readonly clock: ManualClock;
  readonly services: PlatformServices;
  readonly app: FastifyInstance;
  readonly operatorToken: string;
  readonly masterKeyHex: string;
  dispose(): Promise<void>;
}

/** Options of a test platform. */
export interface TestPlatformOptions {
  readonly codeTtlSeconds?: number;
  readonly extraRoutes?: (services: HttpServices) => RoutePlugin[];
}

/** Starts the platform over a fresh database on `engine`. */
export async function startTestPlatform(
  engine: EngineName,
  options: TestPlatformOptions = {},
): Promise<TestPlatform> {
  const test = await openTestDatabase(engine);
  const clock = new ManualClock(Date.now());
  const masterKeyHex = randomBytes(32).toString('hex');
  const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
  const config = loadConfig({
    OPERATOR_TOKEN: operatorToken,
    LOG_LEVEL: 'silent',
    PUBLIC_URL: 'http://127.0.0.1:8080',
  });
  const services = createPlatformServices({
    database: test.database,
    clock,
    configuration: {
      codeTtlSeconds: options.codeTtlSeconds ?? 300,
      lockSeconds: 900,
      temporaryLocksBeforePermanent: 3,
      publicUrl: config.publicUrl,
      sweepIntervalMs: 1000,
    },
    masterKeyHex,
    stores: sqlPlatformStores(test.database),
  });
  const httpServices: HttpServices = { ...services, operatorTokenHash: hashOperatorToken(operatorToken) };
  const app = await buildApp({
    config,
    database: test.database,
    clock,
    logger: false,
    routes: [...platformRoutes(httpServices), ...(options.extraRoutes?.(httpServices) ?? [])],
    idempotencyStore: services.idempotencyStore,
    httpLimits: { requestsPerWindowPerAddressMax: 1_000_000 },
  });
  await app.ready();
  return {
    test,
    clock,
    services,
    app,
    operatorToken,
    masterKeyHex,
    dispose: async () => {
      await app.close();
      await test.dispose();
    },
  };
}
