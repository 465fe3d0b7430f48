/**
 * Limits of the HTTP layer, in one place until they are merged into `src/domain/limits.ts`. Names carry
 * their unit last. Tests may lower a limit through `AppDependencies.httpLimits` instead of sending thousands
 * of requests; production uses these values.
 */
export const httpLimits = Object.freeze({
  /** Requests one client address may make in one rate-limit window, across all routes. */
  requestsPerWindowPerAddressMax: 600,
  /** Length of the rate-limit window. */
  rateLimitWindowMs: 60_000,
  /** Client addresses the in-memory rate limiter tracks at once; the least recently seen are forgotten. */
  rateLimitAddressesTrackedMax: 10_000,
  /** Time to receive a whole request (headers and body); cuts off slow-loris clients. */
  requestTimeoutMs: 10_000,
  /** Idle time after which a socket is closed. */
  connectionTimeoutMs: 30_000,
  /** Idle time a kept-alive connection waits for the next request. */
  keepAliveTimeoutMs: 5_000,
  /** Length of an Idempotency-Key header, in characters. */
  idempotencyKeyLengthMax: 255,
  /**
   * How long a started idempotent request holds its key. A retry arriving later takes the key over, which
   * is how a request whose process crashed mid-way becomes retryable; it must exceed the longest handler.
   */
  idempotencyLeaseMs: 60_000,
  /** Length of a bearer token accepted in an Authorization header, in characters. */
  bearerTokenLengthMax: 512,
  /** Time the health check waits for the database before answering 503. */
  healthCheckTimeoutMs: 2_000,
  /**
   * Length of an incoming X-Request-Id kept as the request's id, in characters: room for a UUID with a
   * prefix, short enough that a client cannot fill log lines with it.
   */
  requestIdLengthMax: 128,
  /** Length of a URL path parameter, in characters. */
  pathParameterLengthMax: 200,
});

/** The shape of the HTTP limits, for overrides in tests. */
export type HttpLimits = { readonly [name in keyof typeof httpLimits]: number };
