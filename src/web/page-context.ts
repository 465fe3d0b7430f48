/**
 * What a module of pages registers in its own encapsulated Fastify context: the cookie plugin, a form-body
 * parser (only here: the JSON API refuses every other content type), the page's Content-Security-Policy
 * and no-store caching on every response, CSRF verification of every POST, and an error handler that
 * answers with an HTML page instead of the API's JSON. See `src/web/README.md`.
 */

import { parse as parseQueryString } from 'node:querystring';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError, type ErrorCode } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import { cookieAttributes } from './cookies.js';
import { type PagePolicyOptions, pageContentSecurityPolicy } from './csp.js';
import { CsrfGuard, type CsrfSecrets, csrfFieldName, type SessionBinding } from './csrf.js';
import { html, type SafeHtml } from './html.js';
import { renderLayout } from './layout.js';
import { errorPageMessage } from './messages.js';

/** How a page module sets up its context. */
export interface PageContextOptions {
  /** Short name of the area ('payer', 'operator', 'terminal', 'checkout'): CSRF tokens of one do not fit another. */
  readonly area: string;
  readonly secrets: CsrfSecrets;
  /** The stable value of the session a request is signed in with, or '' (see csrf.ts). */
  readonly sessionBinding: SessionBinding;
  readonly policy?: PagePolicyOptions;
  /** Renders an error as a whole page; the default is a plain page in the layout. */
  readonly errorPage?: (request: FastifyRequest, error: CountersignError) => SafeHtml;
  /**
   * Where a request that fails with `authentication_required` (no session, or one that ended) is sent with a
   * 303, after its session cookie is deleted; without it such a request gets an error page.
   */
  readonly signIn?: { readonly url: (request: FastifyRequest) => string; readonly sessionCookie: string };
  /** POST paths that skip CSRF verification (none should: only for endpoints that are not forms). */
  readonly csrfExemptPaths?: readonly string[];
}

/** What the page module gets back. */
export interface PageContext {
  readonly csrf: CsrfGuard;
}

/** Sends a rendered page. */
export function sendPage(reply: FastifyReply, page: SafeHtml, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(page.markup);
}

/** A 303 redirect (after a POST the browser follows it with a GET: no form is ever resubmitted by reload). */
export function redirectSeeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send();
}

/**
 * One string field of a parsed form body: undefined when absent, not a single string, or longer than
 * `limits.formFieldLengthMax` (a repeated field is refused rather than guessed). Only own properties are read,
 * so a field named `__proto__` or `constructor` reads as absent.
 */
export function formField(body: unknown, name: string): string | undefined {
  if (body === null || typeof body !== 'object' || !Object.hasOwn(body, name)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length > limits.formFieldLengthMax) return undefined;
  return value;
}

/**
 * Parses a form body (Node's `querystring`: a repeated field becomes an array), and refuses a NUL character (`%00`) in any field name or
 * value: no form field has a use for one, and PostgreSQL cannot store it, so it would fail a query (a 500)
 * instead of being refused. The JSON parser of the API refuses it the same way (`src/http/strict-json.ts`).
 */
export function parseFormWithoutNul(text: string): Record<string, unknown> {
  const fields = parseQueryString(text) as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (
      name.includes('\u0000') ||
      values.some((item) => typeof item === 'string' && item.includes('\u0000'))
    ) {
      throw new CountersignError('invalid_request', { message: 'A form field holds a NUL character.' });
    }
  }
  return fields;
}

const fastifyCodes: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
};

/** The catalog error a failure of a page request is shown as; anything unexpected is internal_error. */
export function pageErrorOf(error: FastifyError | Error): CountersignError {
  if (error instanceof CountersignError) return error;
  const fastifyError = error as FastifyError;
  const known = fastifyCodes[fastifyError.code];
  if (known !== undefined) return new CountersignError(known);
  const status = fastifyError.statusCode;
  if (status === 404) return new CountersignError('route_not_found');
  if (status === 429) return new CountersignError('rate_limited');
  if (status !== undefined && status >= 400 && status < 500) return new CountersignError('invalid_request');
  return new CountersignError('internal_error');
}

function defaultErrorPage(_request: FastifyRequest, error: CountersignError): SafeHtml {
  return renderLayout({
    title: 'Something went wrong',
    areaName: '',
    homeHref: '/',
    narrow: true,
    body: html`<h1>Something went wrong</h1><p class="error" role="alert">${errorPageMessage(error)}</p>
<p><a href="/">Back to the start</a></p>`,
  });
}

/** Sets up page handling in `app`, which must be the encapsulated context of one page module. */
export async function registerPageContext(
  app: FastifyInstance,
  options: PageContextOptions,
): Promise<PageContext> {
  if (!app.hasRequestDecorator('cookies')) await app.register(fastifyCookie);
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    await app.register(fastifyFormbody, { bodyLimit: limits.pageFormBytesMax, parser: parseFormWithoutNul });
  }
  const policy = pageContentSecurityPolicy(options.policy);
  const csrf = new CsrfGuard(options.secrets, options.area, options.sessionBinding);
  const exempt = new Set(options.csrfExemptPaths ?? []);
  const errorPage = options.errorPage ?? defaultErrorPage;

  app.addHook('onRequest', async (_request, reply) => {
    reply.header('content-security-policy', policy);
    reply.header('cache-control', 'no-store');
  });
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'POST' || exempt.has(request.routeOptions.url ?? '')) return;
    csrf.verify(request, formField(request.body, csrfFieldName));
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = pageErrorOf(error);
    if (answer.status >= 500) request.log.error({ err: error }, 'page request failed');
    if (answer.code === 'rate_limited' && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
    if (answer.code === 'authentication_required' && options.signIn !== undefined) {
      const url = options.signIn.url(request);
      reply.clearCookie(options.signIn.sessionCookie, cookieAttributes);
      return redirectSeeOther(reply, url);
    }
    return sendPage(reply, errorPage(request, answer), answer.status);
  });
  return { csrf };
}
