// Builds the whole platform over a fresh test database, a manual clock and a random master key, for inject tests.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { HttpLimits } from '../../src/domain/limits.js';
import { buildApp } from '../../src/http/app.js';
import type { RoutePlugin } from '../../src/http/dependencies.js';
import { hashOperatorToken } from '../../src/http/operator-auth.js';
import { platformRoutes } from '../../src/http/routes/index.js';
import type { HttpServices } from '../../src/http/services.js';
import { platformMetrics } from '../../src/main.js';
import type { PayerAttemptCounter } from '../../src/services/parties/payer-rate-limiter.js';
import { trackDatabaseUse } from '../../src/store/database-use.js';
import { createPlatformServices, type PlatformServices } from '../../src/wiring/platform-services.js';
import { sqlPlatformStores } from '../../src/wiring/sql-stores.js';
import { type ContractCheck, installContractCheck } from './contract-check.js';
import { type EngineName, openTestDatabase, type TestDatabase } from './engines.js';

/** A running platform for one test file. */
export interface TestPlatform {
  readonly test: TestDatabase;
  readonly clock: ManualClock;
  readonly services: PlatformServices;
  readonly app: FastifyInstance;
  /** Responses that did not match the OpenAPI document (see contract-check.ts). */
  readonly contract: ContractCheck;
  readonly operatorToken: string;
  readonly masterKeyHex: string;
  dispose(): Promise<void>;
}

/** Options of a test platform. */
export interface TestPlatformOptions {
  readonly codeTtlSeconds?: number;
  /** `PUBLIC_URL` (default `http://127.0.0.1:8080`); passkey tests need the origin the browser loads. */
  readonly publicUrl?: string;
  readonly extraRoutes?: (services: HttpServices) => RoutePlugin[];
  /** Per-payer attempts per minute; tests default to no practical limit, like the per-address one. */
  readonly rateLimitPerPayer?: number;
  /** HTTP limits to apply instead of the test defaults (e.g. a small per-address rate limit). */
  readonly httpLimits?: Partial<HttpLimits>;
  /** Let webhooks reach local receivers (127.0.0.1), as tests need; production refuses them by default. */
  readonly webhookAllowPrivateTargets?: boolean;
  /** Payments per group commit; 0 runs every payment in a batch of one. Default: production's. */
  readonly commitBatchSize?: number;
  /** Second-terminal delivery channels beyond push: an SMS gateway, the development outbox. */
  readonly deliveries?: {
    readonly smsGatewayUrl?: string;
    readonly smsGatewaySecret?: string;
    readonly developmentOutbox?: boolean;
  };
  /** Wires `/metrics` as the server does, with this METRICS_TOKEN too when given. */
  readonly metrics?: { readonly metricsToken?: string };
  /** Where the per-payer throttle counts (default: in memory, as without REDIS_URL). */
  readonly payerAttemptCounter?: PayerAttemptCounter;
  /** The Redis connection the per-address limit counts in (default: in memory, as without REDIS_URL). */
  readonly sharedCounters?: Redis;
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
    PUBLIC_URL: options.publicUrl ?? 'http://127.0.0.1:8080',
    ...(options.metrics?.metricsToken === undefined ? {} : { METRICS_TOKEN: options.metrics.metricsToken }),
  });
  const services = createPlatformServices({
    database: test.database,
    clock,
    configuration: {
      codeTtlSeconds: options.codeTtlSeconds ?? 300,
      lockSeconds: 900,
      publicUrl: config.publicUrl,
      sweepIntervalMs: 1000,
      rateLimitPerPayer: options.rateLimitPerPayer ?? 1_000_000,
      ...(options.commitBatchSize === undefined ? {} : { commitBatchSize: options.commitBatchSize }),
      webhookAllowPrivateTargets: options.webhookAllowPrivateTargets ?? false,
      ...options.deliveries,
    },
    masterKeyHex,
    stores: {
      ...sqlPlatformStores(test.database),
      ...(options.payerAttemptCounter === undefined
        ? {}
        : { payerAttemptCounter: options.payerAttemptCounter }),
    },
  });
  const httpServices: HttpServices = { ...services, operatorTokenHash: hashOperatorToken(operatorToken) };
  const app = await buildApp({
    config,
    database: test.database,
    clock,
    logger: false,
    routes: [...platformRoutes(httpServices), ...(options.extraRoutes?.(httpServices) ?? [])],
    idempotencyStore: services.idempotencyStore,
    ...(options.sharedCounters === undefined ? {} : { sharedCounters: options.sharedCounters }),
    httpLimits: { requestsPerWindowPerAddressMax: 1_000_000, ...options.httpLimits },
    ...(options.metrics === undefined
      ? {}
      : {
          metrics: platformMetrics(
            config,
            services,
            trackDatabaseUse(test.database),
            httpServices.operatorTokenHash,
            clock,
          ),
        }),
  });
  const contract = installContractCheck(app);
  await app.ready();
  return {
    test,
    clock,
    services,
    app,
    operatorToken,
    masterKeyHex,
    contract,
    dispose: async () => {
      await app.close();
      await test.dispose();
      // Every response the suite provoked matched the document, or the suite fails here.
      if (contract.violations.length > 0) {
        throw new Error(`responses outside the OpenAPI document:\n${contract.violations.join('\n')}`);
      }
    },
  };
}
