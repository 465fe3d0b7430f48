// Builds the whole platform over a fresh test database, a manual clock and a random master key, for inject tests.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/domain/clock.js';
import { buildApp } from '../../src/http/app.js';
import type { RoutePlugin } from '../../src/http/dependencies.js';
import { hashOperatorToken } from '../../src/http/operator-auth.js';
import { operatorRoutes } from '../../src/http/routes/operator-routes.js';
import { paymentRoutes } from '../../src/http/routes/payment-routes.js';
import type { MethodServices } from '../../src/http/services.js';
import { createMethodServices, type MethodServiceSet } from '../../src/services/method-services.js';
import { hashPassword, verifyPasswordOrDummy } from '../../src/services/passwords.js';
import { createSecrets } from '../../src/services/secrets.js';
import { sqlStores } from '../../src/store/stores.js';
import { type EngineName, openTestDatabase, type TestDatabase } from './engines.js';

/** A running platform for one test file. */
export interface TestPlatform {
  readonly test: TestDatabase;
  readonly clock: ManualClock;
  readonly services: MethodServiceSet;
  readonly app: FastifyInstance;
  readonly operatorToken: string;
  readonly masterKeyHex: string;
  dispose(): Promise<void>;
}

/** Options of a test platform. */
export interface TestPlatformOptions {
  readonly codeTtlSeconds?: number;
  readonly extraRoutes?: (services: MethodServices) => RoutePlugin[];
}

/** Starts the platform over a fresh database on `engine`. */
export async function startTestPlatform(engine: EngineName, options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const test = await openTestDatabase(engine);
  const clock = new ManualClock(Date.now());
  const masterKeyHex = randomBytes(32).toString('hex');
  const operatorToken = `cs_op_${randomBytes(24).toString('base64url')}`;
  const config = loadConfig({ OPERATOR_TOKEN: operatorToken, LOG_LEVEL: 'silent', PUBLIC_URL: 'http://127.0.0.1:8080' });
  const services = createMethodServices({
    database: test.database,
    clock,
    configuration: {
      codeTtlSeconds: options.codeTtlSeconds ?? 300,
      lockSeconds: 900,
      temporaryLocksBeforePermanent: 3,
      publicUrl: config.publicUrl,
    },
    secrets: createSecrets(masterKeyHex),
    passwords: { hashPassword, verifyPasswordOrDummy },
    stores: sqlStores,
  });
  const httpServices: MethodServices = { ...services, operatorTokenHash: hashOperatorToken(operatorToken) };
  const app = await buildApp({
    config,
    database: test.database,
    clock,
    logger: false,
    routes: [operatorRoutes(httpServices), paymentRoutes(httpServices), ...(options.extraRoutes?.(httpServices) ?? [])],
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
