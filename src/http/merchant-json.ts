/**
 * Request schemas and response shapes of the merchant API. Everything here is merchant-facing: nothing
 * names a payer, a payer's account or a payer's secret. Payment requests and refunds are mapped by the
 * services' own `paymentRequestObject` and `refundObject`, the same JSON their webhook events carry.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import { type ApiKeyRecord, merchantLimits, type Page } from '../domain/merchant.js';
import type { WebhookEventRecord } from '../services/merchant-stores.js';
import type { DeliveryWithAttempts } from '../services/webhook-service.js';
import { Amount, Currency, displayName, Uuid } from './schemas.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `?limit=&starting_after=` of every list. A query value is read as its declared type (query-coercion.ts). */
export const ListQuery = Type.Object(
  {
    // The range is checked by `limitOf`, whose message names the bounds.
    limit: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 9999, description: 'Page size, 1 to 100 (default 10)' }),
    ),
    starting_after: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

/** The page size asked for: 1–100, 10 when absent; `invalid_request` naming `limit` otherwise. */
export function limitOf(query: { limit?: number | undefined }): number {
  if (query.limit === undefined) return merchantLimits.pageSizeDefault;
  const limit = query.limit;
  if (limit < merchantLimits.pageSizeMin || limit > merchantLimits.pageSizeMax) {
    throw new CountersignError('invalid_request', {
      param: 'limit',
      message: `limit must be ${merchantLimits.pageSizeMin} to ${merchantLimits.pageSizeMax}`,
    });
  }
  return limit;
}

/** A list response: `{object: "list", data, hasMore}`. */
export function listJson<T, U>(
  page: Page<T>,
  map: (item: T) => U,
): { object: 'list'; data: U[]; hasMore: boolean } {
  return { object: 'list', data: page.data.map(map), hasMore: page.hasMore };
}

/**
 * An API key as listed: its prefix and state at `nowMs`, never the key. A rotated key whose grace period
 * has ended shows as `expired`.
 */
export function apiKeyJson(key: ApiKeyRecord, nowMs: number): Record<string, unknown> {
  const expired = key.status === 'active' && key.expiresAtMs !== null && nowMs >= key.expiresAtMs;
  return {
    id: key.id,
    object: 'api_key',
    prefix: key.prefix,
    status: expired ? 'expired' : key.status,
    createdAt: iso(key.createdAtMs),
    expiresAt: iso(key.expiresAtMs),
    revokedAt: iso(key.revokedAtMs),
  };
}

/** An event exactly as it is delivered. */
export function eventJson(event: WebhookEventRecord): unknown {
  return JSON.parse(event.body);
}

/** A delivery with every attempt. */
export function deliveryJson({ delivery, attempts }: DeliveryWithAttempts): Record<string, unknown> {
  return {
    id: delivery.id,
    object: 'webhook_delivery',
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    url: delivery.url,
    status: delivery.status,
    attemptCount: delivery.attempts,
    nextAttemptAt: delivery.status === 'pending' ? iso(delivery.nextAttemptAtMs) : null,
    replayOf: delivery.replayOf,
    createdAt: iso(delivery.createdAtMs),
    completedAt: iso(delivery.completedAtMs),
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      startedAt: iso(attempt.startedAtMs),
      durationMs: attempt.durationMs,
      responseStatus: attempt.responseStatus,
      error: attempt.error,
      responseExcerpt: attempt.responseExcerpt,
    })),
  };
}

const Timestamp = Type.String({ format: 'date-time' });
const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A payment request as a merchant sees it (`paymentRequestObject`); it never names the payer. */
export const PaymentRequestJson = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('payment_request'),
    status: Type.Union(['open', 'paid', 'expired', 'canceled'].map((status) => Type.Literal(status))),
    amount: Type.Integer({ description: 'Integer minor units' }),
    currency: Type.String(),
    reference: Type.String(),
    description: nullable(Type.String()),
    returnUrl: nullable(Type.String()),
    checkoutUrl: Type.String({ description: 'The hosted checkout page where the payer pays' }),
    paymentId: nullable(Type.String()),
    createdAt: Timestamp,
    expiresAt: Timestamp,
    updatedAt: Timestamp,
  },
  { additionalProperties: false },
);

/** A refund as a merchant sees it (`refundObject`). */
export const RefundJson = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('refund'),
    paymentId: Type.String(),
    amount: Type.Integer({ description: 'Integer minor units' }),
    currency: Type.String(),
    status: Type.Literal('succeeded'),
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

/** A page of a list (`listJson`): `{object: "list", data, hasMore}`. */
export function listOf<T extends TSchema>(item: T) {
  return Type.Object(
    { object: Type.Literal('list'), data: Type.Array(item), hasMore: Type.Boolean() },
    { additionalProperties: false },
  );
}

/**
 * The services build these objects as plain records; the response schemas above declare their fields, and
 * the response check of the test suites (test/support/contract-check.ts) holds the two together.
 */
export function asDeclared<T extends TSchema>(_schema: T, value: unknown): Static<T> {
  return value as Static<T>;
}

export const PaymentRequestIdParams = Type.Object({ id: Uuid });

export const PaymentRequestCreate = Type.Object(
  {
    amount: Amount,
    currency: Currency,
    reference: displayName(
      merchantLimits.referenceCharactersMax,
      "The merchant's order number, shown to the payer",
    ),
    description: Type.Optional(
      Type.String({ minLength: 1, maxLength: merchantLimits.descriptionCharactersMax }),
    ),
    returnUrl: Type.Optional(Type.String({ minLength: 1, maxLength: merchantLimits.urlCharactersMax })),
    expiresInSeconds: Type.Optional(
      Type.Integer({
        minimum: merchantLimits.paymentRequestTtlSecondsMin,
        maximum: merchantLimits.paymentRequestTtlSecondsMax,
      }),
    ),
  },
  { additionalProperties: false },
);

export const RefundCreate = Type.Object(
  {
    paymentId: Uuid,
    amount: Type.Optional(Amount),
  },
  { additionalProperties: false },
);

/**
 * The body of a POST that takes no parameters: nothing, or `{}` (see `emptyBodyAsObject`). `nullable` is how
 * the OpenAPI document learns that the body may be left out (contract.ts), as Fastify reads an absent body.
 */
export const EmptyBody = Type.Object({}, { additionalProperties: false, nullable: true });

/**
 * A preValidation hook that reads a POST sent without a body as `{}`, so that a schema can still refuse
 * unknown fields while clients may send no body at all.
 */
export async function emptyBodyAsObject(request: FastifyRequest): Promise<void> {
  if (request.method === 'POST' && (request.body === undefined || request.body === null)) request.body = {};
}
