/**
 * Request schemas and response shapes of the merchant API. Everything here is merchant-facing: nothing
 * names a payer, a payer's account or a payer's secret. Payment requests and refunds are mapped by the
 * services' own `paymentRequestObject` and `refundObject`, the same JSON their webhook events carry.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import { merchantLimits } from '../domain/limits.js';
import type { ApiKeyRecord, Page } from '../domain/merchant.js';
import { webhookEventTypes } from '../domain/webhook.js';
import type { WebhookEventRecord } from '../services/merchants/merchant-stores.js';
import { type DeliveryWithAttempts, publicEventBody } from '../services/webhooks/webhook-service.js';
import {
  Amount,
  Currency,
  displayName,
  MetadataJson,
  nullable,
  objectOf,
  Timestamp,
  Uuid,
} from './schemas.js';

export { listOf } from './schemas.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** `?limit=&starting_after=` of every list. A query value is read as its declared type (query-coercion.ts). */
export const ListQuery = Type.Object(
  {
    // The range is checked by `limitOf`, whose message names the bounds.
    limit: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: merchantLimits.pageSizeAcceptedMax,
        description: `Page size, ${merchantLimits.pageSizeMin} to ${merchantLimits.pageSizeMax} (default ${merchantLimits.pageSizeDefault})`,
      }),
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
export function apiKeyJson(key: ApiKeyRecord, nowMs: number): Static<typeof ApiKeyJson> {
  const expired = key.status === 'active' && key.expiresAtMs !== null && nowMs >= key.expiresAtMs;
  return {
    id: key.id,
    object: 'api_key',
    prefix: key.prefix,
    status: expired ? 'expired' : key.status,
    createdAt: new Date(key.createdAtMs).toISOString(),
    expiresAt: iso(key.expiresAtMs),
    revokedAt: iso(key.revokedAtMs),
  };
}

/** An API key as listed (`apiKeyJson`): never the key itself. */
export const ApiKeyJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('api_key'),
    prefix: Type.String({ description: 'The first characters of the key, to recognise it by' }),
    status: Type.Union(['active', 'expired', 'revoked'].map((status) => Type.Literal(status))),
    createdAt: Timestamp,
    expiresAt: nullable(Timestamp),
    revokedAt: nullable(Timestamp),
  },
  { additionalProperties: false },
);

/** A newly issued API key: the key itself is in this answer only. */
export const IssuedApiKeyJson = Type.Object(
  { ...ApiKeyJson.properties, apiKey: Type.String({ description: 'The key; shown once' }) },
  { additionalProperties: false },
);

/** A merchant as shown to itself and to the operator. */
export const MerchantJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('merchant'),
    name: Type.String(),
    webhookUrl: nullable(Type.String()),
  },
  { additionalProperties: false },
);

/** A created merchant: its first API key and its webhook secret are in this answer only. */
export const CreatedMerchantJson = Type.Object(
  {
    ...MerchantJson.properties,
    apiKey: Type.String({ description: 'The first API key; shown once' }),
    apiKeyId: Type.String(),
    webhookSecret: Type.String({ description: 'The webhook signing secret; shown once' }),
  },
  { additionalProperties: false },
);

/** A new webhook signing secret, shown once. */
export const WebhookSecretJson = Type.Object(
  { object: objectOf('webhook_secret'), webhookSecret: Type.String() },
  { additionalProperties: false },
);

/** A merchant's balance in one currency. */
export const MerchantBalanceJson = Type.Object(
  {
    object: objectOf('balance'),
    currency: Type.String(),
    available: Type.Integer({ description: 'What the merchant holds now, in minor units' }),
    incoming: Type.Integer({ description: 'What payments awaiting approval will bring if approved' }),
  },
  { additionalProperties: false },
);

/** An event exactly as it is delivered (`publicEventBody`: one form, whenever it was recorded). */
export function eventJson(event: WebhookEventRecord): Static<typeof EventJson> {
  return JSON.parse(publicEventBody(event.body)) as Static<typeof EventJson>;
}

/** A delivery with every attempt. */
export function deliveryJson({
  delivery,
  attempts,
}: DeliveryWithAttempts): Static<typeof WebhookDeliveryJson> {
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
    createdAt: new Date(delivery.createdAtMs).toISOString(),
    completedAt: iso(delivery.completedAtMs),
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      startedAt: new Date(attempt.startedAtMs).toISOString(),
      durationMs: attempt.durationMs,
      responseStatus: attempt.responseStatus,
      error: attempt.error,
      responseExcerpt: attempt.responseExcerpt,
    })),
  };
}

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
    metadata: MetadataJson,
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
    metadata: MetadataJson,
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);

/** The event types a merchant receives. */
const WebhookEventType = Type.Union(webhookEventTypes.map((type) => Type.Literal(type)));

/** An event, as delivered to the webhook and listed by the API. */
export const EventJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('event'),
    type: WebhookEventType,
    createdAt: Timestamp,
    data: Type.Object(
      { object: Type.Union([PaymentRequestJson, RefundJson]) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** A delivery of an event to the merchant's webhook URL, with every attempt (`deliveryJson`). */
export const WebhookDeliveryJson = Type.Object(
  {
    id: Type.String(),
    object: objectOf('webhook_delivery'),
    eventId: Type.String(),
    eventType: WebhookEventType,
    url: Type.String(),
    status: Type.Union(['pending', 'succeeded', 'failed'].map((status) => Type.Literal(status))),
    attemptCount: Type.Integer({ minimum: 0 }),
    nextAttemptAt: nullable(Timestamp),
    replayOf: nullable(Type.String()),
    createdAt: Timestamp,
    completedAt: nullable(Timestamp),
    attempts: Type.Array(
      Type.Object(
        {
          attempt: Type.Integer({ minimum: 1 }),
          startedAt: Timestamp,
          durationMs: Type.Integer({ minimum: 0 }),
          responseStatus: nullable(Type.Integer()),
          error: nullable(Type.String()),
          responseExcerpt: nullable(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

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
    metadata: Type.Optional(MetadataJson),
  },
  { additionalProperties: false },
);

export const RefundCreate = Type.Object(
  {
    paymentId: Uuid,
    amount: Type.Optional(Amount),
    metadata: Type.Optional(MetadataJson),
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
