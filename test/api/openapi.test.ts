// Proves that GET /openapi.json is an OpenAPI 3 document listing every route the platform registers, each with its request schema, so that a route added without a schema fails here.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { limits } from '../../src/domain/limits.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

/**
 * Routes deliberately left out of the document: the health probes, the document itself, and static files
 * (the pages' assets, the web terminal app's shell). A route added to this list is a decision, visible
 * in review; any other route without a documented schema fails below.
 */
const undocumented = new Set([
  'GET /healthz',
  'GET /livez',
  'GET /readyz',
  'GET /openapi.json',
  'GET /assets/app.css',
  'GET /assets/js/{*}',
  'GET /terminal',
  'GET /terminal/',
  'GET /terminal/icon.svg',
  'GET /terminal/manifest.webmanifest',
  'GET /terminal/service-worker.js',
]);

/**
 * POST routes that take no body at all (the path says everything); every other POST must describe its
 * body. Like the list above, an addition here is a decision made in review.
 */
const bodylessPosts = new Set([
  'POST /v1/payers/{id}/unlock',
  'POST /v1/payers/{id}/block',
  'POST /v1/sessions/current/revoke',
  'POST /v1/terminals/{id}/revoke',
  'POST /v1/terminal/payments/{id}/decline',
  'POST /v1/terminal/payments/{id}/passkey-options',
  'POST /v1/terminal/revoke',
  'POST /v1/deliveries/{id}/retry',
  'POST /v1/operators/{name}/end-sessions',
  'POST /v1/backups',
]);

/**
 * Every route Fastify registers, seen by an onRoute hook added to the instance the moment it is created
 * (Fastify has no public list of its routes, and a hook added later would miss the routes of plugins).
 */
const seen = vi.hoisted(() => ({ routes: [] as { method: string; url: string; schema: unknown }[] }));
vi.mock('fastify', async (importOriginal) => {
  const actual = await importOriginal<typeof import('fastify')>();
  const create = ((options: Parameters<typeof actual.default>[0]) => {
    const app = actual.default(options);
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat())
        seen.routes.push({ method, url: route.url, schema: route.schema });
    });
    return app;
  }) as typeof actual.default;
  return { ...actual, default: create };
});

/** `METHOD /path` with OpenAPI-style `{param}` segments (and `{*}` for a wildcard). */
function routeName(route: { method: string; url: string }): string {
  return `${route.method} ${route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{*}')}`;
}

/** Every registered route but the HEAD routes, which are the automatic twins of GET routes. */
function registeredRoutes(): string[] {
  return [...new Set(seen.routes.filter((route) => route.method !== 'HEAD').map(routeName))].sort();
}

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { in: string; name: string; schema?: unknown }[];
  requestBody?: {
    required?: boolean;
    content?: Record<string, { schema?: { type?: string; properties?: Record<string, unknown> } }>;
  };
  security?: Record<string, string[]>[];
  responses?: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema?: JsonSchema }> }
  >;
}

interface JsonSchema {
  $ref?: string;
  type?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
}

describe('the OpenAPI document', () => {
  let platform: TestPlatform;
  let document: {
    openapi: string;
    info: { title: string };
    paths: Record<string, Record<string, Operation>>;
    components?: { securitySchemes?: Record<string, unknown> };
  };
  let routes: string[];

  beforeAll(async () => {
    platform = await startTestPlatform('pglite');
    const response = await platform.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    document = response.json();
    routes = registeredRoutes();
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const documented = () =>
    Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      )
      .sort();

  it('is OpenAPI 3', () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info.title).toBe('Countersign');
  });

  it('reads the registered routes, so that the comparison below has something to compare', () => {
    for (const route of [
      'POST /v1/payers',
      'POST /v1/payments',
      'POST /v1/payments/{id}/approve',
      'GET /v1/payments/{id}',
      'GET /healthz',
    ]) {
      expect(routes).toContain(route);
    }
  });

  it('gives every registered route a schema, and hides only the routes meant to be undocumented', () => {
    const faults: string[] = [];
    for (const route of seen.routes.filter((r) => r.method !== 'HEAD')) {
      const name = routeName(route);
      const schema = route.schema as { hide?: boolean } | undefined;
      if (schema === undefined) faults.push(`${name}: no schema`);
      else if ((schema.hide === true) !== undocumented.has(name))
        faults.push(`${name}: hidden is ${schema.hide}`);
    }
    expect(faults).toEqual([]);
  });

  it('lists exactly the registered routes, but the undocumented ones', () => {
    expect(documented()).toEqual(routes.filter((route) => !undocumented.has(route)));
  });

  it('gives every operation a summary, a tag, its path parameters and, for a POST, its body', () => {
    const faults: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        if (!operation.summary) faults.push(`${route}: no summary`);
        if ((operation.tags?.length ?? 0) === 0) faults.push(`${route}: no tag`);
        const pathParameters = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
        const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
        if (declared.sort().join() !== pathParameters.join())
          faults.push(`${route}: path parameters ${declared}`);
        for (const parameter of operation.parameters ?? []) {
          if (parameter.schema === undefined)
            faults.push(`${route}: parameter ${parameter.name} without schema`);
        }
        // A page's form posts its fields as a form; every other body is JSON.
        const content = operation.requestBody?.content ?? {};
        const body = (content['application/json'] ?? content['application/x-www-form-urlencoded'])?.schema;
        if (method === 'post' && !bodylessPosts.has(route) && body?.type !== 'object') {
          faults.push(`${route}: no object body`);
        }
      }
    }
    expect(faults).toEqual([]);
  });

  it('declares every security scheme an operation names', () => {
    const schemes = Object.keys(document.components?.securitySchemes ?? {});
    for (const operations of Object.values(document.paths)) {
      for (const operation of Object.values(operations)) {
        for (const requirement of operation.security ?? []) {
          for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
        }
      }
    }
  });

  it('marks a body optional exactly where the route takes none, and requires every other body', () => {
    const optional = Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.entries(operations)
          .filter(([, operation]) => operation.requestBody?.required === false)
          .map(([method]) => `${method.toUpperCase()} ${path}`),
      )
      .sort();
    expect(optional).toEqual([
      'POST /v1/merchants/{id}/api-keys',
      'POST /v1/merchants/{id}/api-keys/{keyId}/revoke',
      'POST /v1/merchants/{id}/api-keys/{keyId}/rotate',
      'POST /v1/merchants/{id}/webhook-secret/rotate',
      'POST /v1/payers/{id}/terminals',
      'POST /v1/payment-requests/{id}/cancel',
      'POST /v1/payments/{id}/cancel',
      'POST /v1/webhook-deliveries/{id}/replay',
    ]);
  });

  it('declares the statuses, the error schema, the headers and an operationId for every API operation', () => {
    const faults: string[] = [];
    const ids = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        const id = (operation as { operationId?: string }).operationId;
        if (id === undefined || ids.has(id)) faults.push(`${route}: operationId ${id}`);
        ids.add(id ?? '');
        if (!path.startsWith('/v1/')) continue;
        const responses = (
          operation as {
            responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
          }
        ).responses;
        for (const status of ['4XX', '5XX']) {
          const schema = responses[status]?.content?.['application/json']?.schema;
          if (schema?.$ref !== '#/components/schemas/Error')
            faults.push(`${route}: ${status} ${JSON.stringify(schema)}`);
        }
        const headers = (operation.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
        if (method === 'post' && !headers.includes('idempotency-key'))
          faults.push(`${route}: no Idempotency-Key`);
      }
    }
    expect(faults).toEqual([]);
    expect(document.paths['/v1/payments']?.['post']).toHaveProperty('responses.201');
    expect(document.paths['/v1/payments']?.['post']).not.toHaveProperty('responses.200');
  });

  it('declares every success answer of the API field by field, each object with its `object`', () => {
    const schemas = (document as { components?: { schemas?: Record<string, JsonSchema> } }).components
      ?.schemas;
    const resolve = (schema: JsonSchema): JsonSchema =>
      schema.$ref === undefined ? schema : resolve(schemas?.[schema.$ref.split('/').at(-1) ?? ''] ?? {});
    /** The objects an answer may be: each member of a union, each item of a list. */
    const objectsOf = (schema: JsonSchema): JsonSchema[] => {
      const resolved = resolve(schema);
      const members = resolved.anyOf ?? resolved.oneOf;
      if (members !== undefined) return members.flatMap(objectsOf);
      const items = resolved.properties?.['data']?.items;
      return items === undefined ? [resolved] : [resolved, ...objectsOf(items)];
    };
    const faults: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const route = `${method.toUpperCase()} ${path}`;
        for (const [status, answer] of Object.entries(operation.responses ?? {})) {
          const headers = Object.keys(answer.headers ?? {});
          if (!headers.includes('Request-Id')) faults.push(`${route} ${status}: no Request-Id`);
          if (!headers.includes('Countersign-Version'))
            faults.push(`${route} ${status}: no Countersign-Version`);
          if (['429', '503'].includes(status) && !headers.includes('Retry-After'))
            faults.push(`${route} ${status}: no Retry-After`);
          const json = answer.content?.['application/json']?.schema;
          if (!status.startsWith('2') || json === undefined) continue;
          for (const object of objectsOf(json)) {
            if (object.type !== 'object' || object.additionalProperties !== false)
              faults.push(`${route} ${status}: not declared field by field`);
            if (object.properties?.['object'] === undefined)
              faults.push(`${route} ${status}: no object field`);
          }
        }
        for (const status of ['429', '503']) {
          if (operation.responses?.[status] === undefined) faults.push(`${route}: ${status} not declared`);
        }
      }
    }
    expect(faults).toEqual([]);
  });

  it('declares Request-Id on the answers of every page too', () => {
    const faults = Object.entries(document.paths)
      .filter(([path]) => !path.startsWith('/v1/'))
      .flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, operation]) =>
          Object.entries(operation.responses ?? {})
            .filter(([, answer]) => answer.headers?.['Request-Id'] === undefined)
            .map(([status]) => `${method.toUpperCase()} ${path} ${status}`),
        ),
      );
    expect(faults).toEqual([]);
  });

  it('declares page sizes as integers, and the API reads them so', async () => {
    for (const path of [
      '/v1/payments',
      '/v1/payment-requests',
      '/v1/refunds',
      '/v1/events',
      '/v1/deliveries',
    ]) {
      const limit = document.paths[path]?.['get']?.parameters?.find((p) => p.name === 'limit');
      expect(limit?.schema, path).toMatchObject({ type: 'integer' });
    }
    const refused = async (query: string) =>
      (await platform.app.inject({ method: 'GET', url: `/v1/payments?${query}` })).json().error;
    expect(await refused('limit=ten')).toMatchObject({ code: 'invalid_request', param: 'limit' });
    expect(await refused('limit=2.5')).toMatchObject({ code: 'invalid_request', param: 'limit' });
    expect(await refused('limit=101')).toMatchObject({ code: 'invalid_request', param: 'limit' });
    // An unknown parameter is refused like an unknown body field, with the same code.
    expect(await refused('limit=5&colour=red')).toMatchObject({
      code: 'invalid_request',
      param: 'colour',
      message: 'colour is not a known field.',
    });
    // A valid query reaches the route, which then asks for a session.
    expect(await refused('limit=5')).toMatchObject({ code: 'authentication_required' });
  });

  it('is generated from the schemas that validate requests', () => {
    const create = document.paths['/v1/payments']?.['post']?.requestBody?.content?.['application/json']
      ?.schema as {
      properties: Record<string, { minimum?: number; maximum?: number; pattern?: string }>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(create.properties['amount']).toMatchObject({ minimum: 1, maximum: limits.apiAmountMax });
    expect(create.properties['currency']?.pattern).toBe('^[A-Z]{3}$');
    expect(create.additionalProperties).toBe(false);
    const list = document.paths['/v1/payments']?.['get']?.parameters ?? [];
    expect(
      list
        .filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual(['limit', 'starting_after']);
  });
});
