/**
 * What the HTTP layer is built from. `main.ts` wires config → store → services → http and passes all of it
 * to `buildApp`; tests pass their own clock, database and test-only routes the same way.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify';
import type { Redis } from 'ioredis';
import type { LoggerOptions } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import type { HttpLimits } from '../domain/limits.js';
import type { Database } from '../services/database.js';
import type { IdempotencyStore } from '../services/idempotency/idempotency-store.js';
import type { MetricsSources } from './metrics-sources.js';

/** A Fastify instance whose route schemas are TypeBox schemas, so handlers get typed bodies and params. */
export type FastifyTypebox = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  RawReplyDefaultExpression<RawServerDefault>,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * The request of a route whose schema is `S`, typed as the route's inline handler would see it: a handler
 * written as a named function (Fastify's style) keeps its typed body, params and query.
 */
export type TypeboxRequest<S extends FastifySchema> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  S,
  TypeBoxTypeProvider
>;

/** The reply of a route whose schema is `S`: `send` is checked against the schema's declared answers. */
export type TypeboxReply<S extends FastifySchema> = FastifyReply<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression<RawServerDefault>,
  RawReplyDefaultExpression<RawServerDefault>,
  ContextConfigDefault,
  S,
  TypeBoxTypeProvider
>;

/**
 * A module of routes (payer, merchant, operator, terminal, pages). Each runs in its own encapsulated
 * Fastify context, so its own hooks and parsers stay inside it, while the common error handling, security
 * headers, rate limit and idempotency apply to its routes.
 */
export type RoutePlugin = (app: FastifyTypebox, deps: AppDependencies) => void | Promise<void>;

/** Everything `buildApp` needs. */
export interface AppDependencies {
  readonly config: Config;
  readonly database: Database;
  readonly clock: Clock;
  /**
   * Pino options (redaction and serializers of `logger.ts` are always applied on top), a logger instance,
   * or false for no logging. Default: pino at `config.logLevel`.
   */
  readonly logger?: LoggerOptions | FastifyBaseLogger | false;
  /** Route modules, registered in order after the common plugins. */
  readonly routes?: readonly RoutePlugin[];
  /**
   * Where idempotency keys live: the services' sealed store, which seals the stored responses (they carry
   * first codes). Required, with no default: a default over the bare repository would store them in clear
   * whenever a caller forgot to pass this one.
   */
  readonly idempotencyStore: IdempotencyStore;
  /**
   * The Redis connection (`REDIS_URL`, keys already under the platform's prefix) in which every server
   * counts the per-address limit together; absent: this process counts alone, in memory.
   */
  readonly sharedCounters?: Redis;
  /** Overrides of HTTP limits, for tests (e.g. a rate limit of three requests). */
  readonly httpLimits?: Partial<HttpLimits>;
  /** What `/metrics` reads and who may scrape it; default: request metrics only, no `/metrics` route. */
  readonly metrics?: MetricsSources;
  /**
   * Migrations this build knows that the database has not applied; `/readyz` answers 503 while any are.
   * Default: none (the caller migrated before building the app).
   */
  readonly migrationsPending?: () => Promise<number>;
  /** PEM certificate chain and private key: the server then listens with HTTPS. */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string };
}
