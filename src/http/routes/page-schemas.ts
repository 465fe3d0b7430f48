/**
 * Route schemas of the web pages, so that every page appears in `/openapi.json` with its parameters and
 * form fields like any other route. Form bodies are documented as `application/x-www-form-urlencoded`
 * objects of optional strings, and validated only that far: a page checks its fields itself and re-renders
 * the form with a message next to the field at fault, which a schema failure could not do. A field sent
 * twice (an array) is refused by the schema.
 */
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { httpLimits, limits } from '../../domain/limits.js';
import type { FastifyTypebox } from '../dependencies.js';
import { noControlCharacterPattern } from '../schemas.js';

/** The OpenAPI tag of each page area. */
export type PageTag = 'payer pages' | 'operator pages' | 'terminal pages' | 'checkout pages';

/** A form field or query value: an optional string. */
const text = Type.Optional(Type.String({ maxLength: limits.pageFormBytesMax }));

/** What a page route declares. */
export interface PageSchemaOptions {
  readonly tag: PageTag;
  readonly summary: string;
  /** Path parameters, e.g. `['id']`. */
  readonly params?: readonly string[];
  /** Query values the page reads. */
  readonly query?: readonly string[];
  /** Form fields the page reads (besides `_csrf`, which every form carries). */
  readonly form?: readonly string[];
}

function optionalStrings(names: readonly string[]): Record<string, TSchema> {
  return Object.fromEntries(names.map((name) => [name, text]));
}

/** The route schema of a page. */
export function pageSchema(options: PageSchemaOptions): {
  tags: string[];
  summary: string;
  params?: TObject;
  querystring?: TObject;
  body?: TObject;
  consumes?: string[];
} {
  return {
    tags: [options.tag],
    summary: options.summary,
    ...(options.params === undefined
      ? {}
      : {
          params: Type.Object(
            Object.fromEntries(
              options.params.map((name) => [
                name,
                Type.String({
                  minLength: 1,
                  maxLength: httpLimits.pathParameterLengthMax,
                  pattern: noControlCharacterPattern,
                }),
              ]),
            ),
          ),
        }),
    ...(options.query === undefined ? {} : { querystring: Type.Object(optionalStrings(options.query)) }),
    ...(options.form === undefined
      ? {}
      : {
          consumes: ['application/x-www-form-urlencoded'],
          body: Type.Object(optionalStrings(['_csrf', ...options.form])),
        }),
  };
}

/** A page route whose options are its schema alone: what it serves, and the handler, given its area's kit. */
export interface PageRoute<Kit> extends Omit<PageSchemaOptions, 'tag'> {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly handler: (kit: Kit, request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
}

/**
 * Registers page routes of one area, in order. Most pages need nothing but their schema, so their
 * registrations are listed as rows rather than each repeating the same `app.post(path, {schema}, …)` shape;
 * a page with more options (a JSON answer, a typed body) registers itself.
 */
export function registerPageRoutes<Kit>(
  app: FastifyTypebox,
  kit: Kit,
  tag: PageTag,
  routes: readonly PageRoute<Kit>[],
): void {
  for (const { method, path, handler, ...options } of routes) {
    app[method](path, { schema: pageSchema({ tag, ...options }) }, (request, reply) =>
      handler(kit, request, reply),
    );
  }
}
