/**
 * The HTTP application: Fastify with the TypeBox type provider, the common behaviour every route shares
 * (JSON only, size and rate limits, one error shape, security headers, idempotency, OpenAPI, health), and
 * the route modules passed in by `main.ts`. Building the app never listens on a port, so tests use
 * `app.inject()`.
 */
import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchemaValidationError,
  type FastifyServerOptions,
} from 'fastify';
import type { LoggerOptions } from 'pino';
import type { Config } from '../config.js';
import { currentApiVersion } from '../domain/api-version.js';
import { CountersignError, type ErrorCode } from '../domain/errors.js';
import { type HttpLimits, httpLimits, limits } from '../domain/limits.js';
import { retryableSqlStates, sqlState } from '../domain/sql-state.js';
import { registerApiVersion } from './api-version.js';
import { correctedDocument, registerContract } from './contract.js';
import type { AppDependencies, FastifyTypebox } from './dependencies.js';
import { registerIdempotency } from './idempotency.js';
import {
  httpLoggerOptions,
  redactedPaths,
  serializeError,
  serializeReply,
  serializeRequest,
} from './logger.js';
import { registerMetrics } from './metrics.js';
import { queryCoercingValidators } from './query-coercion.js';
import { useStrictJsonParser } from './strict-json.js';

/**
 * The per-address limit's store when servers share counts (`REDIS_URL`): the plugin's own Redis store, its
 * keys under `address:` after the platform's prefix. While Redis cannot be reached the limit is skipped
 * (`skipOnError`, fail open), unlike the per-payer throttle, which refuses authentication then (fail
 * closed). The per-address limit guards every route, health checks and merchants' calls included: failing
 * closed would make Redis a single point of failure of the whole API, while what an attacker could gain
 * from the gap (guessing secrets faster) stays bounded by the per-payer throttle and the attempt locks in
 * the database. A skipped request costs at most one counter timeout (`limits.sharedCounterTimeoutMs`).
 */
function sharedAddressCounts(deps: AppDependencies) {
  if (deps.sharedCounters === undefined) return {};
  return { redis: deps.sharedCounters, nameSpace: 'address:', skipOnError: true };
}

/**
 * Builds the application: common plugins and hooks first, then each of `deps.routes` in its own
 * encapsulated context. The returned instance is not listening; call `listen` or `inject`.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const effectiveLimits: HttpLimits = { ...httpLimits, ...deps.httpLimits };
  const app = Fastify(serverOptions(deps, effectiveLimits)).withTypeProvider<TypeBoxTypeProvider>();

  // The steps keep their order: Fastify runs the hooks of a request in the order they were added, and a
  // route module sees only what was registered before it.
  // JSON is the only body the API reads; a page module that needs forms registers a parser in its own context.
  app.removeContentTypeParser('text/plain');
  refuseAmbiguousJson(app);
  app.setErrorHandler(handleError);
  addSecurityHeaders(app, deps.config);
  registerMetrics(app, deps.metrics ?? { tokenHashes: [] });
  await registerRateLimit(app, deps, effectiveLimits);
  await registerOpenApi(app, deps.config);
  registerRequestContract(app, deps, effectiveLimits);
  registerHealth(app, deps, effectiveLimits.healthCheckTimeoutMs);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerRouteModules(app, deps);
  return app;
}

/**
 * The per-address rate limit on every route, and the answer to unknown paths, which it limits too, so
 * that probing for endpoints costs the same as using them.
 */
async function registerRateLimit(
  app: FastifyTypebox,
  deps: AppDependencies,
  effectiveLimits: HttpLimits,
): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: effectiveLimits.requestsPerWindowPerAddressMax,
    timeWindow: effectiveLimits.rateLimitWindowMs,
    cache: effectiveLimits.rateLimitAddressesTrackedMax,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: () => new CountersignError('rate_limited'),
    ...sharedAddressCounts(deps),
  });
  // The not-found handler needs the plugin loaded: `app.rateLimit` is its decoration.
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, async (_request, reply) =>
    sendError(reply, new CountersignError('route_not_found')),
  );
}

/** The OpenAPI document of every route with a schema, served by `/openapi.json`. */
async function registerOpenApi(app: FastifyTypebox, config: Config): Promise<void> {
  await app.register(swagger, {
    // A shared schema appears in components under its own $id (`Error`), not a numbered name.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json['$id'] ?? `def-${index}`),
    },
    transformObject: (documentObject) =>
      correctedDocument((documentObject as { openapiObject: object }).openapiObject),
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Countersign',
        // The document describes the current dated version; Countersign-Version declares every known one.
        version: currentApiVersion,
        description: 'Payments approved with one-time transaction codes.',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      servers: [{ url: config.publicUrl, description: 'This platform (PUBLIC_URL)' }],
      // Every scheme a route names in `security` must be declared here, or the document cannot be built
      // (test/api/openapi.test.ts keeps the two in step).
      components: {
        securitySchemes: {
          operatorToken: { type: 'http', scheme: 'bearer', description: 'The operator token' },
          payerSession: { type: 'http', scheme: 'bearer', description: 'A payer session token' },
          merchantApiKey: { type: 'http', scheme: 'bearer', description: 'A merchant API key' },
          terminalSignature: {
            type: 'apiKey',
            in: 'header',
            name: 'countersign-signature',
            description: 'A signed terminal request (docs/terminal.md)',
          },
        },
      },
    },
  });
}

/**
 * What the platform adds to every route: the contract that completes its schema (contract.ts), the API
 * version, idempotency.
 */
function registerRequestContract(
  app: FastifyTypebox,
  deps: AppDependencies,
  effectiveLimits: HttpLimits,
): void {
  registerContract(app, { idempotencyKeyLengthMax: effectiveLimits.idempotencyKeyLengthMax });
  registerApiVersion(app);
  registerIdempotency(app, {
    store: deps.idempotencyStore,
    clock: deps.clock,
    leaseMs: effectiveLimits.idempotencyLeaseMs,
    keyLengthMax: effectiveLimits.idempotencyKeyLengthMax,
  });
}

/** Each route module in its own encapsulated context, in the order given. */
async function registerRouteModules(app: FastifyTypebox, deps: AppDependencies): Promise<void> {
  for (const routes of deps.routes ?? []) {
    await app.register(async (scope) => {
      await routes(scope, deps);
    });
  }
}

/**
 * Fastify's JSON parser (prototype poisoning refused), then a refusal of any object key given twice (two
 * parsers that read such a body differently could be made to see two different requests) and of any NUL
 * character (no field accepts one, and PostgreSQL cannot store it); see strict-json.ts.
 */
function refuseAmbiguousJson(app: FastifyTypebox): void {
  useStrictJsonParser(app);
}

/**
 * `TRUST_PROXY` as Fastify takes it. A list of proxy addresses goes as it is. A hop count becomes a
 * function trusting the `count` hops nearest the server, whatever their address: Fastify refuses a bare
 * number (it trusts nothing then), because a client that reaches the server directly, past the proxies,
 * could name its own address. The count form therefore relies on the server being reachable only through
 * its proxies (docs/security.md); the list form does not.
 */
function trustProxyOption(trust: Config['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return [...trust];
}

function serverOptions(deps: AppDependencies, effectiveLimits: HttpLimits): FastifyServerOptions {
  // With a certificate the server speaks HTTPS itself (TLS_CERT/TLS_KEY); Fastify then builds an https
  // server with the same timeouts. The option is outside FastifyServerOptions' HTTP-only type, hence the cast.
  const tls = deps.tls === undefined ? {} : ({ https: { cert: deps.tls.cert, key: deps.tls.key } } as object);
  return {
    ...tls,
    ...loggerOptions(deps),
    bodyLimit: limits.requestBodyBytesMax,
    trustProxy: trustProxyOption(deps.config.trustProxy),
    connectionTimeout: effectiveLimits.connectionTimeoutMs,
    requestTimeout: effectiveLimits.requestTimeoutMs,
    keepAliveTimeout: effectiveLimits.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: effectiveLimits.pathParameterLengthMax },
    // Without this, the router answers a bad URL or an over-long path parameter with its own body, which
    // repeats the URL: a reflection of the caller's input outside the catalog's shape.
    // Such an answer skips the app's hooks, so it gets the security headers here.
    frameworkErrors: (error, request, reply) =>
      handleError(
        error,
        request,
        reply.headers({ ...securityHeaders(deps.config), [requestIdHeader]: request.id }),
      ),
    // A prototype-poisoning body is refused, not silently cleaned: it is an attack, not a typo.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    genReqId: (request) => requestIdOf(request.headers['x-request-id'], effectiveLimits.requestIdLengthMax),
    schemaController: { compilersFactory: { buildValidator: queryCoercingValidators() } },
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false, useDefaults: true },
    },
  };
}

/** The response header that carries the request's id, which is also the `reqId` of its log lines. */
const requestIdHeader = 'request-id';

/**
 * The id of a request: the caller's `X-Request-Id` when it is well-formed (a proxy or a shop can then
 * follow one request through its own logs and ours), else a new UUID, unique across processes so that the
 * log lines of one request can be found among many servers. Well-formed means short and made of
 * characters that cannot break a log line or a header.
 */
function requestIdOf(incoming: string | string[] | undefined, lengthMax: number): string {
  if (
    typeof incoming === 'string' &&
    incoming.length <= lengthMax &&
    /^[A-Za-z0-9._:@+=/-]+$/.test(incoming)
  ) {
    return incoming;
  }
  return randomUUID();
}

function isLoggerInstance(logger: LoggerOptions | FastifyBaseLogger): logger is FastifyBaseLogger {
  return typeof (logger as { child?: unknown }).child === 'function';
}

/** Our redaction and serializers apply whichever way the logger was given. */
function loggerOptions(deps: AppDependencies): Pick<FastifyServerOptions, 'logger' | 'loggerInstance'> {
  const logger = deps.logger;
  if (logger === false) return { logger: false };
  if (logger === undefined) return { logger: httpLoggerOptions(deps.config.logLevel) };
  if (!isLoggerInstance(logger)) return { logger: httpLoggerOptions(deps.config.logLevel, logger) };
  const child = logger.child(
    {},
    {
      redact: { paths: [...redactedPaths], censor: '[redacted]' },
      serializers: { req: serializeRequest, res: serializeReply, err: serializeError },
    },
  );
  return { loggerInstance: child };
}

const strictContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

/**
 * Headers on every response, errors and 404s included. Content-Security-Policy and Cache-Control are
 * defaults: a page route may set its own. No response is cached unless its route says so, because API
 * responses carry balances and payment states.
 */
function addSecurityHeaders(app: FastifyTypebox, config: Config): void {
  const headers = securityHeaders(config);
  const defaults = new Set(['content-security-policy', 'cache-control']);
  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(headers)) {
      if (!defaults.has(name) || !reply.hasHeader(name)) reply.header(name, value);
    }
    reply.header(requestIdHeader, request.id);
    return payload;
  });
}

/** The security headers of every answer (see `addSecurityHeaders`). */
function securityHeaders(config: Config): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': strictContentSecurityPolicy,
    'cache-control': 'no-store',
    ...(config.publicUrl.startsWith('https:') && {
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    }),
  };
}

/**
 * Health for orchestrators. `/livez`: the process answers (a restart is the cure when it does not).
 * `/readyz`: the database answers within the timeout and every migration this build knows is applied
 * (send traffic only then). `/healthz` keeps its meaning of before: the database answers. A failed check
 * is 503 service_unavailable.
 */
function registerHealth(app: FastifyTypebox, deps: AppDependencies, timeoutMs: number): void {
  const schema = {
    hide: true,
    response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }) },
  };
  app.get('/livez', { schema }, async () => ({ status: 'ok' as const }));
  app.get('/healthz', { schema }, async () => {
    await withinTimeout(() => deps.database.query('SELECT 1'), timeoutMs);
    return { status: 'ok' as const };
  });
  app.get('/readyz', { schema }, async () => {
    const pending = await withinTimeout(() => (deps.migrationsPending ?? (async () => 0))(), timeoutMs);
    if (pending > 0) {
      throw new CountersignError('service_unavailable', {
        message: `${pending} database migration(s) not yet applied.`,
      });
    }
    return { status: 'ok' as const };
  });
}

/** Runs `check`; a failure or no answer within `timeoutMs` is 503 service_unavailable. */
async function withinTimeout<T>(check: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([check(), timeout]);
  } catch (error) {
    if (error instanceof CountersignError) throw error;
    throw new CountersignError('service_unavailable', { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `error` in the catalog's shape: `{"error":{type,code,message,param?,…details}}`. */
function sendError(reply: FastifyReply, error: CountersignError): FastifyReply {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(error.details ?? {})) {
    if (!reservedErrorFields.has(name)) body[name] = value;
  }
  body['type'] = error.type;
  body['code'] = error.code;
  body['message'] = error.message;
  if (error.param !== undefined) body['param'] = error.param;
  // The same id as the Request-Id header and the log's reqId, for a support request to quote.
  body['requestId'] = reply.request.id;
  // A service-level throttle (e.g. per payer) says when to come back, like the per-address limiter does.
  const retryAfterSeconds = error.details?.['retryAfterSeconds'];
  if (typeof retryAfterSeconds === 'number') reply.header('retry-after', String(retryAfterSeconds));
  return reply.code(error.status).type('application/json; charset=utf-8').send({ error: body });
}

const reservedErrorFields: ReadonlySet<string> = new Set(['type', 'code', 'message', 'param', 'requestId']);

/**
 * The one error handler. An expected failure keeps its code; Fastify's own failures (parsing, validation,
 * size) get their catalog code; anything else is a bug: it is logged with its stack and answered with
 * 500 internal_error, and nothing of it reaches the client.
 */
function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const answer = countersignErrorOf(error);
  if (answer.status >= 500) {
    request.log.error({ err: error }, 'request failed');
  } else if (!(error instanceof CountersignError)) {
    request.log.info({ code: answer.code, fastifyCode: error.code }, 'request refused');
  }
  return sendError(reply, answer);
}

const fastifyErrorCodes: Readonly<Record<string, { code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'unsupported_media_type' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_request', message: 'The request body is not valid JSON.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_request',
    message: 'The request body is empty; send a JSON object or no Content-Type.',
  },
  FST_ERR_BAD_URL: {
    code: 'invalid_request',
    message: 'The URL is not valid: a path segment is not well-formed percent-encoding.',
  },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'uri_too_long' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'invalid_request',
    message: 'Content-Length does not match the body.',
  },
};

function countersignErrorOf(error: FastifyError): CountersignError {
  if (error instanceof CountersignError) return error;
  if (Array.isArray(error.validation) && error.validation.length > 0) {
    return validationError(error.validation[0]!, error.validationContext);
  }
  const known = fastifyErrorCodes[error.code];
  if (known !== undefined)
    return new CountersignError(known.code, known.message ? { message: known.message } : {});
  const state = sqlState(error);
  if (state !== undefined && retryableSqlStates.has(state)) {
    // The transaction was re-run `limits.transactionRetriesMax` times and still conflicted: nothing was
    // committed, so the client may safely retry the same request (with its Idempotency-Key) shortly.
    return new CountersignError('service_unavailable', {
      message: 'The request conflicted with concurrent ones too many times and changed nothing; retry it.',
      details: { retryAfterSeconds: 1 },
    });
  }
  const status = error.statusCode;
  if (status === 404) return new CountersignError('route_not_found');
  if (status === 429) return new CountersignError('rate_limited');
  // Any other client error of Fastify or a plugin: its message may name internals, so the catalog's is used.
  if (status !== undefined && status >= 400 && status < 500) return new CountersignError('invalid_request');
  if (status === 503) return new CountersignError('service_unavailable');
  return new CountersignError('internal_error');
}

/** `/payee/id` → `payee.id`, `/items/0/amount` → `items[0].amount` (JSON Pointer, RFC 6901). */
function fieldPath(instancePath: string, lastSegment: string | undefined): string | undefined {
  const segments = instancePath === '' ? [] : instancePath.slice(1).split('/');
  if (lastSegment !== undefined) segments.push(lastSegment);
  let path = '';
  for (const raw of segments) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    path += /^[0-9]+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  }
  return path === '' ? undefined : path;
}

/** The first schema violation as 400 invalid_request, with `param` naming the field at fault. */
function validationError(issue: FastifySchemaValidationError, context: string | undefined): CountersignError {
  const params = issue.params as Record<string, unknown>;
  const missing = typeof params['missingProperty'] === 'string' ? params['missingProperty'] : undefined;
  const additional =
    typeof params['additionalProperty'] === 'string' ? params['additionalProperty'] : undefined;
  const param = fieldPath(issue.instancePath, missing ?? additional);
  const part = context === 'querystring' ? 'query string' : (context ?? 'request');
  let message: string;
  if (param === undefined) message = `The ${part} ${issue.message ?? 'is invalid'}.`;
  else if (missing !== undefined) message = `${param} is required.`;
  else if (additional !== undefined) message = `${param} is not a known field.`;
  else message = `Invalid ${param}: ${issue.message ?? 'is invalid'}.`;
  // Metadata has its own code, whichever layer finds the fault (domain/metadata.ts checks what no schema can).
  if (context === 'body' && param !== undefined && /^metadata($|[.[])/.test(param)) {
    return new CountersignError('metadata_invalid', { message, param });
  }
  return param === undefined
    ? new CountersignError('invalid_request', { message })
    : new CountersignError('invalid_request', { message, param });
}
