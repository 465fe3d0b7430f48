/**
 * What the OpenAPI document promises about every operation, added in one place rather than restated by each
 * route: an operationId, the one error shape for every 4xx and 5xx answer, the headers the platform reads
 * and writes (Idempotency-Key, Idempotent-Replayed, Retry-After), a success response for routes that do not
 * name their own, an explicit `security` for operations that take no scheme, and query strings that refuse
 * unknown parameters. The schemas also serialise responses, so a response schema must list every field.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { RouteOptions } from 'fastify';
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
const idempotentReplayedHeader = {
  type: 'string',
  enum: ['true'],
  description: 'Present when this is the stored answer of an earlier request with the same Idempotency-Key',
};

/** Any JSON object, for a route whose answer is not (yet) described field by field. */
const AnyObject = Type.Object({}, { additionalProperties: true });

/** A 200 answer with `schema` as its body. */
export function ok<T extends TSchema>(schema: T): { 200: T } {
  return { 200: schema };
}

/** A 201 answer with `schema` as its body: what every create returns. */
export function created<T extends TSchema>(schema: T = AnyObject as unknown as T): { 201: T } {
  return { 201: schema };
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

/** The success and error responses of a JSON API route, with the headers each may carry. */
function responsesOf(schema: RouteSchema, post: boolean): Record<string, unknown> {
  const response: Record<string, unknown> = { ...schema.response };
  const successes = Object.keys(response).filter((status) => status.startsWith('2'));
  if (successes.length === 0) {
    response['200'] = AnyObject;
    successes.push('200');
  }
  if (post) {
    for (const status of successes) {
      const body = response[status] as Record<string, unknown>;
      response[status] = {
        ...body,
        headers: { 'Idempotent-Replayed': idempotentReplayedHeader },
      };
    }
  }
  const error = Type.Ref(errorSchemaId) as unknown as Record<string, unknown>;
  response['4xx'] ??= {
    ...error,
    description: 'Refused: the body says why, with a stable code',
    headers: { 'Retry-After': retryAfterHeader },
  };
  response['5xx'] ??= {
    ...error,
    description: 'Failed or unavailable: retry later with the same Idempotency-Key',
    headers: { 'Retry-After': retryAfterHeader },
  };
  return response;
}

/**
 * Adds the contract to `app`. Call it on the root instance before any route is registered, so that its
 * onRoute hook reaches every route of every route plugin.
 */
export function registerContract(app: FastifyTypebox, options: { idempotencyKeyLengthMax: number }): void {
  app.addSchema(ErrorBody);
  app.addHook('onRoute', (route) => {
    const schema = route.schema as RouteSchema | undefined;
    if (schema === undefined || schema.hide === true) return;
    const methods = methodsOf(route);
    schema.operationId ??= operationIdOf(methods[0] ?? 'get', route.url);
    // An operation that names no scheme authenticates by its body (a password) or not at all: said explicitly.
    schema.security ??= [];
    if (!route.url.startsWith('/v1/')) {
      schema.response ??= pageResponses;
      return;
    }
    const post = methods.includes('POST');
    schema.response = responsesOf(schema, post);
    if (post) {
      // Read by the idempotency hooks before validation (idempotency.ts), so the schema only documents it.
      schema.headers ??= Type.Object({
        'idempotency-key': Type.Optional(
          Type.String({
            maxLength: options.idempotencyKeyLengthMax,
            description: 'Makes the request safe to retry: a repeat gets the first answer (docs/api.md)',
          }),
        ),
      });
    }
    // An unknown query parameter is refused like an unknown body field (invalid_request, param named).
    if (schema.querystring !== undefined) schema.querystring.additionalProperties ??= false;
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
