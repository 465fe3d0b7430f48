/**
 * What the OpenAPI document promises about every operation, added in one place rather than restated by each
 * route: an operationId, the one error shape for every 4xx and 5xx answer, the headers the platform reads
 * and writes (Idempotency-Key, Idempotent-Replayed, Retry-After, Request-Id, Countersign-Version), an
 * explicit `security` for operations that take no scheme, and query strings that refuse unknown parameters.
 * Every API route names its success answer field by field: a route without one cannot be registered. The
 * schemas also serialise responses, so a response schema must list every field.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifySchema, RouteOptions } from 'fastify';
import { apiVersions } from '../domain/api-version.js';
import type { FastifyTypebox } from './dependencies.js';

/** The id under which the error schema is registered; it becomes `components.schemas.Error`. */
export const errorSchemaId = 'Error';

/** The body of every 4xx and 5xx answer: `{"error":{type,code,message,param?,…}}` (docs/errors.md). */
export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        type: Type.String({ description: 'The kind of error, e.g. invalid_request_error' }),
        code: Type.String({ description: 'A stable code from the catalog (docs/errors.md)' }),
        message: Type.String({ description: 'A sentence for people; may change' }),
        param: Type.Optional(Type.String({ description: 'The request field at fault' })),
        requestId: Type.Optional(
          Type.String({ description: 'The Request-Id header of the answer, as logged' }),
        ),
      },
      // Some codes carry details next to the four common fields (e.g. retryAfterSeconds).
      { additionalProperties: true },
    ),
  },
  { $id: errorSchemaId, additionalProperties: false, description: 'An error from the catalog' },
);

const retryAfterHeader = {
  type: 'string',
  description: 'Seconds to wait before trying again (429, 409 idempotency_key_in_use, 503)',
};
const requestIdHeader = {
  type: 'string',
  description: 'The id under which the request was logged; the X-Request-Id sent, when well-formed',
};
const apiVersionHeader = {
  type: 'string',
  enum: [...apiVersions],
  description: 'The API version the answer was made under (docs/api.md, "Versions and changelog")',
};
const idempotentReplayedHeader = {
  type: 'string',
  enum: ['true'],
  description: 'Present when this is the stored answer of an earlier request with the same Idempotency-Key',
};

/**
 * Any JSON object: only for the WebAuthn options a page hands its own script, whose fields are those of
 * the WebAuthn library's types (PublicKeyCredentialCreationOptionsJSON), not an API of ours.
 */
const AnyObject = Type.Object({}, { additionalProperties: true });

/**
 * The options of a WebAuthn ceremony as `@simplewebauthn/server` makes them for the browser's script
 * (PublicKeyCredentialRequestOptionsJSON): their fields are the WebAuthn standard's, not an API of ours.
 */
export const WebAuthnOptions = Type.Object(
  {},
  { additionalProperties: true, description: 'PublicKeyCredentialRequestOptionsJSON (W3C WebAuthn Level 3)' },
);

/** A 200 answer with `schema` as its body. */
export function ok<T extends TSchema>(schema: T): { 200: T } {
  return { 200: schema };
}

/** A 201 answer with `schema` as its body: what every create returns. */
export function created<T extends TSchema>(schema: T): { 201: T } {
  return { 201: schema };
}

/** A 200 answer that is a stream of Server-Sent Events (`text/event-stream`), whose events `description` names. */
export function eventStreamOf(description: string) {
  return { 200: { description, content: { 'text/event-stream': { schema: { type: 'string' } } } } };
}

const html = { 'text/html': { schema: { type: 'string' } } };
/** A page answers with HTML, a redirect after a form, or an HTML page that says what went wrong. */
const pageResponses = {
  '2xx': { description: 'The page', content: html },
  '3xx': { description: 'A redirect after a form, to the page that shows its outcome' },
  '4xx': { description: 'The page, saying what was refused', content: html },
};

/** A 200 answer that is not JSON but a file of `mediaType` (an image, say). */
export function fileOf(mediaType: string, description: string) {
  return { 200: { description, content: { [mediaType]: { schema: { type: 'string', format: 'binary' } } } } };
}

/** A 200 answer that is a file in one of `mediaTypes` (an export as CSV or JSON Lines, say). */
export function filesOf(mediaTypes: readonly string[], description: string) {
  const binary = { schema: { type: 'string', format: 'binary' } };
  return { 200: { description, content: Object.fromEntries(mediaTypes.map((type) => [type, binary])) } };
}

/** A page route that answers a file, or, like every page, a redirect or an HTML page saying what was refused. */
export function pageFilesOf(mediaTypes: readonly string[], description: string) {
  return { ...pageResponses, ...filesOf(mediaTypes, description) };
}

/** A page route that answers JSON for its script (a WebAuthn ceremony's options, say), or a page like any. */
export const pageJsonResponses = { ...pageResponses, 200: AnyObject };

/**
 * The answers of a page's keepalive call (JSON for the idle-timeout script): the seconds left of the
 * session, 0 with 401 when it has ended.
 */
export const keepaliveResponses = (() => {
  const secondsLeft = Type.Object(
    { secondsLeft: Type.Integer({ minimum: 0 }) },
    { additionalProperties: false },
  );
  return { 200: secondsLeft, 401: secondsLeft };
})();

type RouteSchema = Record<string, unknown> & {
  hide?: boolean;
  response?: Record<string, unknown>;
  headers?: unknown;
  querystring?: { additionalProperties?: boolean } & Record<string, unknown>;
  security?: unknown;
  operationId?: string;
};

/**
 * `POST /v1/payments/:id/approve` → `postPaymentsByIdApprove`; a page's path, outside `/v1/`, gets `Page`
 * after the method (`GET /payments` → `getPagePayments`), since pages and API share resource names.
 */
export function operationIdOf(method: string, url: string): string {
  const api = url.startsWith('/v1/');
  const words = [...(api ? [] : ['page']), ...url.split('/')]
    .filter((segment) => segment !== '' && segment !== 'v1')
    .flatMap((segment) => (segment.startsWith(':') ? ['by', segment.slice(1)] : segment.split(/[-_.]/)));
  return (
    method.toLowerCase() +
    words.map((word) => word.charAt(0).toUpperCase() + word.slice(1).replace(/[^A-Za-z0-9]/g, '')).join('')
  );
}

function methodsOf(route: RouteOptions): string[] {
  return [route.method].flat().filter((method) => method !== 'HEAD');
}

/** `response` with `headers` added to each of its answers (copies: a shared response object stays as it is). */
function withHeaders(
  response: Record<string, unknown>,
  headers: (status: string) => Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(response).map(([status, answer]) => {
      const declared = answer as { headers?: Record<string, unknown> };
      return [status, { ...declared, headers: { ...declared.headers, ...headers(status) } }];
    }),
  );
}

/**
 * The success and error responses of a JSON API route, with the headers each may carry: every answer has
 * Request-Id and Countersign-Version; a POST's successes Idempotent-Replayed; 429 and 503 Retry-After (as does
 * 409 idempotency_key_in_use, inside 4XX).
 */
function responsesOf(route: string, schema: RouteSchema, post: boolean): Record<string, unknown> {
  const response: Record<string, unknown> = { ...schema.response };
  if (!Object.keys(response).some((status) => status.startsWith('2'))) {
    // An answer serialised without a schema could carry any field; the document would not say which.
    throw new Error(`${route}: an API route must declare its success answer (contract.ts: ok, created)`);
  }
  const error = Type.Ref(errorSchemaId) as unknown as Record<string, unknown>;
  response['429'] ??= { ...error, description: 'Too many requests: wait for Retry-After seconds' };
  response['4xx'] ??= { ...error, description: 'Refused: the body says why, with a stable code' };
  response['503'] ??= { ...error, description: 'Unavailable: retry after Retry-After seconds, same key' };
  response['5xx'] ??= {
    ...error,
    description: 'Failed: retry later with the same Idempotency-Key',
  };
  return withHeaders(response, (status) => ({
    'Request-Id': requestIdHeader,
    'Countersign-Version': apiVersionHeader,
    ...(post && status.startsWith('2') && { 'Idempotent-Replayed': idempotentReplayedHeader }),
    ...((status === '429' || status === '503' || status === '4xx') && { 'Retry-After': retryAfterHeader }),
  }));
}

/** The request headers an API route reads: Countersign-Version, and Idempotency-Key on a POST. */
function requestHeadersOf(post: boolean, idempotencyKeyLengthMax: number) {
  return Type.Object({
    // Checked before validation (api-version.ts), so that an unknown version has its own code.
    'countersign-version': Type.Optional(
      Type.String({
        enum: [...apiVersions],
        description: 'The dated API version the client was written against; the current one when absent',
      }),
    ),
    ...(post && {
      // Read by the idempotency hooks before validation (idempotency.ts), so the schema only documents it.
      'idempotency-key': Type.Optional(
        Type.String({
          maxLength: idempotencyKeyLengthMax,
          description: 'Makes the request safe to retry: a repeat gets the first answer (docs/api.md)',
        }),
      ),
    }),
  });
}

/**
 * Adds the contract to `app`. Call it on the root instance before any route is registered, so that its
 * onRoute hook reaches every route of every route plugin.
 */
export function registerContract(app: FastifyTypebox, options: { idempotencyKeyLengthMax: number }): void {
  app.addSchema(ErrorBody);
  // A GET's automatic HEAD route shares its schema object: each schema is completed once, and both routes
  // get the completed copy.
  const completed = new WeakMap<object, RouteSchema>();
  app.addHook('onRoute', (route) => {
    const declared = route.schema as RouteSchema | undefined;
    if (declared === undefined || declared.hide === true) return;
    const done = completed.get(declared);
    if (done !== undefined) {
      route.schema = done as FastifySchema;
      return;
    }
    // A copy, completed: the declared schema is often a module's constant, shared by every app the process
    // builds (tests build many), so completing it in place would complete it twice.
    const schema: RouteSchema = {
      ...declared,
      ...(declared.querystring === undefined ? {} : { querystring: { ...declared.querystring } }),
    };
    completed.set(declared, schema);
    route.schema = schema as FastifySchema;
    const methods = methodsOf(route);
    schema.operationId ??= operationIdOf(methods[0] ?? 'get', route.url);
    // An operation that names no scheme authenticates by its body (a password) or not at all: said explicitly.
    schema.security ??= [];
    if (!route.url.startsWith('/v1/')) {
      schema.response = withHeaders(schema.response ?? pageResponses, () => ({
        'Request-Id': requestIdHeader,
      }));
      return;
    }
    const post = methods.includes('POST');
    schema.response = responsesOf(`${methods.join(',')} ${route.url}`, schema, post);
    if (schema.headers !== undefined) throw new Error(`${route.url}: request headers are declared here`);
    schema.headers = requestHeadersOf(post, options.idempotencyKeyLengthMax);
    // An unknown query parameter is refused like an unknown body field (invalid_request, param named); a
    // route that reads no query refuses every parameter.
    schema.querystring ??= { type: 'object', properties: {} };
    schema.querystring.additionalProperties ??= false;
  });
}

/**
 * The document as fastify-swagger builds it, with two corrections it cannot make itself: it marks every
 * request body required, while a body whose schema is `nullable` may be left out (Fastify validates an
 * absent body as null), as for a cancel or a key rotation; and it gives a redirect (3XX) a JSON body,
 * while a redirect has none.
 */
export function correctedDocument<T extends object>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, unknown>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      const body = (
        operation as {
          requestBody?: { required?: boolean; content?: Record<string, { schema?: { nullable?: boolean } }> };
        }
      ).requestBody;
      const schemas = Object.values(body?.content ?? {}).map((media) => media.schema);
      if (body !== undefined && schemas.length > 0 && schemas.every((schema) => schema?.nullable === true)) {
        body.required = false;
      }
      const redirect = (operation as { responses?: Record<string, { content?: unknown }> }).responses?.[
        '3XX'
      ];
      if (redirect !== undefined) delete redirect.content;
    }
  }
  return document;
}
