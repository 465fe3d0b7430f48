/**
 * Idempotent POST requests (Stripe's semantics). A POST carrying `Idempotency-Key` claims the key just
 * before its handler runs; the final response is stored, and a retry with the same key and the same request
 * gets that response again, marked `Idempotent-Replayed: true`, without running the handler. The same key
 * with another request is refused (422), and a retry while the first is still running is told so (409).
 * A response of 500 or above is not stored: the key is released so that a retry runs again.
 *
 * The key is claimed in a preHandler appended after the route's own preHandlers, so a request refused by
 * validation or by a route's authentication preHandler never claims a key. (A payment's approval needs no
 * authentication; the bearer token it may carry is checked inside its operation, so that refusal is the
 * key's answer, like the approval's own.) Services read `request.idempotencyKey` to derive
 * deterministic ids, which makes the operation itself idempotent even if a key's record were lost.
 *
 * A route whose operation can claim the key in its own transaction (a payment's creation and approval: the
 * claim is one more statement of the payment's batch) says so with `config.idempotencyInOperation` and
 * runs its operation through `runWithIdempotencyKey`: the claim then costs no statement and no wait of
 * its own, and commits with the operation. The answers are those of a key claimed before the handler.
 */
import { createHash } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
  preValidationHookHandler,
  RouteOptions,
} from 'fastify';
import type { Clock } from '../domain/clock.js';
import { CountersignError } from '../domain/errors.js';
import {
  type IdempotencyBeginResult,
  IdempotencyKeyTaken,
  type IdempotencyStore,
  type KeyClaimTicket,
} from '../services/idempotency/idempotency-store.js';
import type { FastifyTypebox } from './dependencies.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The validated `Idempotency-Key` of a POST, or undefined when none was sent. */
    idempotencyKey: string | undefined;
    /**
     * Whose key space the key lives in, set by a route's authentication preHandler once it knows (e.g.
     * `payer:<id>` after a password check); undefined: the Authorization header's, else anonymous.
     */
    idempotencyPrincipal: string | undefined;
  }
  interface FastifyContextConfig {
    /** The route's operation claims the key in its own transaction, through `runWithIdempotencyKey`. */
    idempotencyInOperation?: boolean;
  }
}

/** What the idempotency hooks need. */
export interface IdempotencyOptions {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly leaseMs: number;
  readonly keyLengthMax: number;
}

/** A claimed or claimable key of one request, and how far its handling got. */
interface KeyState {
  /** Set when the key is claimed, after authentication: see `idempotencyPrincipal`. */
  scope: string;
  readonly key: string;
  readonly requestHash: string;
  /** `deferred`: to be claimed by the route's operation (`runWithIdempotencyKey`). */
  phase: 'captured' | 'deferred' | 'started' | 'replayed' | 'finished';
}

/** What `runWithIdempotencyKey` needs of a request whose key its operation claims. */
interface DeferredClaim {
  readonly options: IdempotencyOptions;
  readonly state: KeyState;
}

/** Requests whose key their route's operation claims, set by the claim preHandler. */
const deferredClaims = new WeakMap<FastifyRequest, DeferredClaim>();

/** The header's name as clients send it, used as `param` of its errors. */
export const idempotencyKeyHeader = 'Idempotency-Key';

const printableAsciiPattern = /^[\x20-\x7e]+$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Whose key space a request's key lives in: the principal its authentication named (a payer who gave a
 * password in the body), else the SHA-256 of its Authorization header (so no credential is stored in
 * clear), else `anonymous:` with the method and path (a payment's own approve path, say). A request
 * authenticated in its body is scoped only after the check: otherwise anyone could claim a payer's next
 * key first, with a wrong password, and make the payer's own request answer 422.
 */
export function idempotencyScope(request: FastifyRequest): string {
  if (request.idempotencyPrincipal !== undefined)
    return `principal:${sha256Hex(request.idempotencyPrincipal)}`;
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization !== '') return `sha256:${sha256Hex(authorization)}`;
  const path = request.url.split('?', 1)[0] ?? request.url;
  // Hashed: a path may be longer than the column holds.
  return `anonymous:${sha256Hex(`${request.method} ${path}`)}`;
}

/**
 * JSON with object keys sorted, so that two bodies that differ only in key order or whitespace are the
 * same request. An absent body is the empty string.
 */
export function canonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_name, member: unknown) => {
    if (member === null || typeof member !== 'object' || Array.isArray(member)) return member;
    const entries = Object.entries(member as Record<string, unknown>);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries);
  });
  return text ?? '';
}

/**
 * The SHA-256 of method, path with query string (so path parameters such as a payment id count) and the
 * canonical body as parsed, before validation may have filled in defaults.
 */
export function idempotencyRequestHash(request: FastifyRequest): string {
  return sha256Hex(`${request.method}\n${request.url}\n${canonicalJson(request.body)}`);
}

/** Parses the header; throws 400 invalid_request naming the header when it is malformed. */
function idempotencyKeyOf(request: FastifyRequest, keyLengthMax: number): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > keyLengthMax || !printableAsciiPattern.test(raw)) {
    throw new CountersignError('invalid_request', {
      param: idempotencyKeyHeader,
      message: `Idempotency-Key must be 1 to ${keyLengthMax} printable ASCII characters.`,
    });
  }
  return raw;
}

function hooksOf<Hook>(existing: Hook | Hook[] | undefined): Hook[] {
  if (existing === undefined) return [];
  return Array.isArray(existing) ? existing : [existing];
}

function isPost(route: RouteOptions): boolean {
  return Array.isArray(route.method) ? route.method.includes('POST') : route.method === 'POST';
}

/**
 * Adds the idempotency hooks to `app`. Call it on the root instance before any route is registered: the
 * onRoute hook then reaches every POST route of every route plugin.
 */
export function registerIdempotency(app: FastifyTypebox, options: IdempotencyOptions): void {
  const states = new WeakMap<FastifyRequest, KeyState>();
  app.decorateRequest('idempotencyKey', undefined);
  app.decorateRequest('idempotencyPrincipal', undefined);

  // Runs before validation, which may fill in defaults: the hash covers the body exactly as sent.
  const capture: preValidationHookHandler = async (request) => {
    const key = idempotencyKeyOf(request, options.keyLengthMax);
    if (key === undefined) return;
    request.idempotencyKey = key;
    const state: KeyState = {
      scope: '',
      key,
      requestHash: idempotencyRequestHash(request),
      phase: 'captured',
    };
    states.set(request, state);
  };

  const claim: preHandlerHookHandler = async (request, reply) => {
    const state = states.get(request);
    if (state === undefined) return;
    state.scope = idempotencyScope(request);
    if (request.routeOptions.config.idempotencyInOperation === true) {
      state.phase = 'deferred';
      deferredClaims.set(request, { options, state });
      return;
    }
    const result = await beginClaim(options, state);
    if (answerClaim(result, state, reply) === 'replayed') return reply;
  };

  app.addHook('onRoute', (route) => {
    if (!isPost(route)) return;
    route.preValidation = [capture, ...hooksOf(route.preValidation)];
    route.preHandler = [...hooksOf(route.preHandler), claim];
    if (route.config?.idempotencyInOperation === true)
      route.handler = claimedInOperation(route.handler, states);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const state = states.get(request);
    if (state?.phase === 'started') await finish(options, state, request, reply, payload);
    return payload;
  });

  // A started request that never reached onSend (the response failed) must not hold its key until the lease
  // runs out.
  app.addHook('onResponse', async (request) => {
    const state = states.get(request);
    if (state?.phase !== 'started') return;
    state.phase = 'finished';
    await options.store.release(state.scope, state.key).catch((error: unknown) => {
      request.log.error({ err: error }, 'could not release an idempotency key');
    });
  });
}

/** Claims the request's key through the store's own statement. */
function beginClaim(options: IdempotencyOptions, state: KeyState): Promise<IdempotencyBeginResult> {
  return options.store.begin(
    state.scope,
    state.key,
    state.requestHash,
    options.clock.nowMs(),
    options.leaseMs,
  );
}

/**
 * Answers what a claim found: `started` (the request runs), `replayed` (the stored response is sent), or
 * throws for a key in use (409) or reused with another request (422).
 */
function answerClaim(
  result: IdempotencyBeginResult,
  state: KeyState,
  reply: FastifyReply,
): 'started' | 'replayed' {
  if (result.kind === 'started') {
    state.phase = 'started';
    return 'started';
  }
  if (result.kind === 'replay') {
    state.phase = 'replayed';
    reply.code(result.status).header('idempotent-replayed', 'true').type('application/json; charset=utf-8');
    reply.send(result.body);
    return 'replayed';
  }
  if (result.kind === 'in_progress') {
    reply.header('retry-after', '1');
    throw new CountersignError('idempotency_key_in_use', { param: idempotencyKeyHeader });
  }
  throw new CountersignError('idempotency_key_reused', { param: idempotencyKeyHeader });
}

/** What `runWithIdempotencyKey` did: ran the operation, or replayed the key's stored response. */
export type IdempotentRun<T> = { readonly replayed: false; readonly value: T } | { readonly replayed: true };

/**
 * Runs the operation of a route with `config.idempotencyInOperation`, giving it the ticket with which it
 * claims the request's key in its own transaction; without a key, it just runs. When the key was claimed
 * already, the key's record answers as if it had been claimed before the handler: the stored response
 * is replayed (the handler then returns the reply as it is), a key in use or reused is refused, and a
 * key whose holder's lease ran out is taken over and the operation runs (its ids are derived from the key,
 * so it finds what its predecessor did). A refusal after the operation's transaction claimed the key is
 * stored like any answer; one before it (or in a rolled-back transaction) claims the key before it is
 * answered (`claimForRefusal`). So every refusal of such a route comes from inside `operation`: one sent
 * outside it would leave the key unclaimed, which the route answers as a bug (`claimedInOperation`).
 */
export async function runWithIdempotencyKey<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  operation: (ticket: KeyClaimTicket | undefined) => Promise<T>,
): Promise<IdempotentRun<T>> {
  const deferred = deferredClaims.get(request);
  if (deferred?.state.phase !== 'deferred') return { replayed: false, value: await operation(undefined) };
  const { options, state } = deferred;
  const ticket: KeyClaimTicket = {
    claim: options.store.claimFor(
      state.scope,
      state.key,
      state.requestHash,
      options.clock.nowMs(),
      options.leaseMs,
    ),
    outcome: undefined,
  };
  try {
    return { replayed: false, value: heldValue(state, ticket, await operation(ticket)) };
  } catch (error) {
    if (ticket.outcome === 'held') state.phase = 'started';
    else if (ticket.outcome === undefined && (await claimForRefusal(options, state, reply, error))) {
      return { replayed: true };
    }
    if (!(error instanceof IdempotencyKeyTaken)) throw error;
  }
  state.phase = 'captured';
  if (answerClaim(await beginClaim(options, state), state, reply) === 'replayed') return { replayed: true };
  return { replayed: false, value: await operation(undefined) };
}

/**
 * An operation refused before its transaction claimed the key (a payment request no longer open, say)
 * claims it now, before its refusal is answered, so that the key answers as if it had been claimed before
 * the handler. Free: the refusal is the key's answer, stored as it is sent. Already completed: the stored
 * answer is replayed instead (answers true), since the refusal may only be the consequence of
 * that earlier success (the request the first attempt paid is paid now). In use or reused: 409 or 422.
 * A 5xx is never stored, so it claims nothing.
 */
async function claimForRefusal(
  options: IdempotencyOptions,
  state: KeyState,
  reply: FastifyReply,
  error: unknown,
): Promise<boolean> {
  if (!(error instanceof CountersignError) || error.status >= 500) return false;
  state.phase = 'captured';
  return answerClaim(await beginClaim(options, state), state, reply) === 'replayed';
}

/**
 * The value of an operation that returned: it must have claimed the key in its transaction, since a
 * service that takes a ticket either claims the key with its work or refuses; one that returned without
 * claiming it would answer with the key unclaimed, and a retry would run the work again.
 */
function heldValue<T>(state: KeyState, ticket: KeyClaimTicket, value: T): T {
  if (ticket.outcome !== 'held') throw new Error('invariant: an operation returned without claiming its key');
  state.phase = 'started';
  return value;
}

/**
 * The handler of a route that claims its key in its operation, held to that: a handler that answered
 * without running its operation through `runWithIdempotencyKey` (returned, or refused outside it) would
 * send an answer its key neither holds nor keeps a retry from running again. That is a bug, answered as
 * one (500 internal_error, logged with its stack), never as the key's answer. A 5xx is let through: it
 * claims nothing anyway.
 */
function claimedInOperation(
  handler: RouteOptions['handler'],
  states: WeakMap<FastifyRequest, KeyState>,
): RouteOptions['handler'] {
  const unclaimed = (request: FastifyRequest) => states.get(request)?.phase === 'deferred';
  return async function (this: FastifyInstance, request, reply) {
    let answer: unknown;
    try {
      answer = await handler.call(this, request, reply);
    } catch (error) {
      const status = error instanceof CountersignError ? error.status : 500;
      if (status < 500 && unclaimed(request))
        throw new Error('invariant: a refusal outside the operation', { cause: error });
      throw error;
    }
    if (unclaimed(request)) throw new Error('invariant: an answer without running the operation');
    return answer;
  };
}

/**
 * Stores the final response of a started request, or releases the key for a 5xx or a body that is not text.
 * A storage failure is logged, not answered: the operation has happened and the client gets its real
 * result; the key then stays claimed until its lease expires, and the service's deterministic ids keep a
 * later retry from doing the work twice.
 */
async function finish(
  options: IdempotencyOptions,
  state: KeyState,
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<void> {
  state.phase = 'finished';
  const body =
    typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
  try {
    if (reply.statusCode >= 500 || body === undefined) {
      await options.store.release(state.scope, state.key);
    } else {
      await options.store.complete(state.scope, state.key, reply.statusCode, body, options.clock.nowMs());
    }
  } catch (error) {
    request.log.error({ err: error }, 'could not record the outcome of an idempotent request');
  }
}
