/**
 * The merchant API (`Authorization: Bearer <API key>`): payment requests and their redemption (embodiment
 * 3), refunds, balance, events, webhook deliveries and the merchant's own settings. Every answer here is
 * merchant-facing and never carries the payer's identity, accounts or secrets. With an Idempotency-Key, ids
 * of created objects are derived from the key, so a retried POST never creates a second one.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { merchantLimits } from '../../domain/limits.js';
import { amountFromJson, amountToJson } from '../../domain/money.js';
import { paymentRequestObject } from '../../services/merchants/payment-request-service.js';
import { refundObject } from '../../services/merchants/refund-service.js';
import { created, ok } from '../contract.js';
import type { RoutePlugin, TypeboxReply, TypeboxRequest } from '../dependencies.js';
import { merchantOf, requireMerchant } from '../merchant-auth.js';
import {
  asDeclared,
  deliveryJson,
  EmptyBody,
  EventJson,
  emptyBodyAsObject,
  eventJson,
  ListQuery,
  limitOf,
  listJson,
  listOf,
  MerchantBalanceJson,
  MerchantJson,
  PaymentRequestCreate,
  PaymentRequestIdParams,
  PaymentRequestJson,
  RefundCreate,
  RefundJson,
  WebhookDeliveryJson,
} from '../merchant-json.js';
import { CurrencyQuery, SecondCode, Uuid } from '../schemas.js';
import type { HttpServices } from '../services.js';

const merchantSecurity = [{ merchantApiKey: [] }];
const IdParams = Type.Object({ id: Uuid });

/** The idempotency key of a request, scoped to its merchant. */
function scopedKey(request: FastifyRequest, merchantId: string): string | undefined {
  return request.idempotencyKey === undefined
    ? undefined
    : `merchant:${merchantId}:${request.idempotencyKey}`;
}

/** A merchant route's schema: its tags and security, with its own summary and parts. */
function merchantSchema<T extends object>(summary: string, parts: T) {
  return {
    tags: ['merchant'],
    summary,
    security: merchantSecurity,
    ...parts,
  };
}

/** A payment request as the merchant sees it, with its hosted checkout URL on the platform's public URL. */
function requestJson(services: HttpServices, request: Parameters<typeof paymentRequestObject>[0]) {
  return asDeclared(PaymentRequestJson, paymentRequestObject(request, services.deps.settings.publicUrl));
}

/** A refund as the merchant sees it. */
function refundJson(refund: Parameters<typeof refundObject>[0]) {
  return asDeclared(RefundJson, refundObject(refund));
}

/** The merchant's own settings, once read or written. */
async function merchantJson(view: Promise<{ id: string; name: string; webhookUrl: string | null }>) {
  return {
    object: 'merchant' as const,
    ...(await view),
  };
}

/** `POST /v1/payment-requests`: ask to be paid. */
const createPaymentRequestSchema = merchantSchema(
  'Ask to be paid: a payment request with a hosted checkout URL',
  {
    response: created(PaymentRequestJson),
    body: PaymentRequestCreate,
  },
);

/** Creates a payment request; with an Idempotency-Key, a retry answers the same request. */
async function createPaymentRequest(
  services: HttpServices,
  request: TypeboxRequest<typeof createPaymentRequestSchema>,
  reply: TypeboxReply<typeof createPaymentRequestSchema>,
) {
  const merchantId = merchantOf(request);
  const { amount, ...rest } = request.body;
  const created = await services.paymentRequests.create(
    merchantId,
    { ...rest, amount: amountFromJson(amount) },
    scopedKey(request, merchantId),
  );
  return reply.code(201).send(requestJson(services, created));
}

/** `GET /v1/payment-requests`. */
const listPaymentRequestsSchema = merchantSchema('The payment requests, newest first', {
  querystring: ListQuery,
  response: ok(listOf(PaymentRequestJson)),
});

/** One page of the merchant's payment requests, newest first. */
async function listPaymentRequests(
  services: HttpServices,
  request: TypeboxRequest<typeof listPaymentRequestsSchema>,
) {
  const page = await services.paymentRequests.list(
    merchantOf(request),
    limitOf(request.query),
    request.query.starting_after,
  );
  return listJson(page, (paymentRequest) => requestJson(services, paymentRequest));
}

/** `GET /v1/payment-requests/:id`. */
const getPaymentRequestSchema = merchantSchema(
  'A payment request: open, paid (with its payment id), expired or canceled',
  {
    params: PaymentRequestIdParams,
    response: ok(PaymentRequestJson),
  },
);

/** The merchant's payment request. */
async function getPaymentRequest(
  services: HttpServices,
  request: TypeboxRequest<typeof getPaymentRequestSchema>,
) {
  return requestJson(services, await services.paymentRequests.get(merchantOf(request), request.params.id));
}

/** `POST /v1/payment-requests/:id/cancel`. */
const cancelPaymentRequestSchema = merchantSchema(
  'Cancel an open payment request (a pending payment is canceled too)',
  {
    params: PaymentRequestIdParams,
    body: EmptyBody,
    response: ok(PaymentRequestJson),
  },
);

/** Cancels the merchant's open payment request. */
async function cancelPaymentRequest(
  services: HttpServices,
  request: TypeboxRequest<typeof cancelPaymentRequestSchema>,
) {
  return requestJson(services, await services.paymentRequests.cancel(merchantOf(request), request.params.id));
}

/** `POST /v1/payment-requests/:id/redeem`: embodiment 3, the merchant submits the payer's second code. */
const redeemPaymentRequestSchema = merchantSchema(
  'Redeem the second code the payer read off their second terminal (embodiment 3)',
  {
    params: PaymentRequestIdParams,
    body: Type.Object({ secondCode: SecondCode }, { additionalProperties: false }),
    response: ok(PaymentRequestJson),
  },
);

/** Approves the payment of the merchant's payment request with the second code the payer read out. */
async function redeemPaymentRequest(
  services: HttpServices,
  request: TypeboxRequest<typeof redeemPaymentRequestSchema>,
) {
  return requestJson(
    services,
    await services.paymentRequests.redeem(merchantOf(request), request.params.id, request.body.secondCode),
  );
}

/** `POST /v1/refunds`. */
const createRefundSchema = merchantSchema('Refund all or part of a succeeded payment', {
  body: RefundCreate,
  response: created(RefundJson),
});

/** Refunds all of a payment, or the amount asked; with an Idempotency-Key, a retry answers the same refund. */
async function createRefund(
  services: HttpServices,
  request: TypeboxRequest<typeof createRefundSchema>,
  reply: TypeboxReply<typeof createRefundSchema>,
) {
  const merchantId = merchantOf(request);
  const refund = await services.refunds.create(
    merchantId,
    {
      paymentId: request.body.paymentId,
      amount: request.body.amount === undefined ? undefined : amountFromJson(request.body.amount),
      metadata: request.body.metadata,
    },
    scopedKey(request, merchantId),
  );
  return reply.code(201).send(refundJson(refund));
}

/** `GET /v1/refunds`. */
const listRefundsSchema = merchantSchema('The refunds, newest first', {
  querystring: ListQuery,
  response: ok(listOf(RefundJson)),
});

/** One page of the merchant's refunds, newest first. */
async function listRefunds(services: HttpServices, request: TypeboxRequest<typeof listRefundsSchema>) {
  return listJson(
    await services.refunds.list(merchantOf(request), limitOf(request.query), request.query.starting_after),
    refundJson,
  );
}

/** `GET /v1/refunds/:id`. */
const getRefundSchema = merchantSchema('A refund', { params: IdParams, response: ok(RefundJson) });

/** The merchant's refund. */
async function getRefund(services: HttpServices, request: TypeboxRequest<typeof getRefundSchema>) {
  return refundJson(await services.refunds.get(merchantOf(request), request.params.id));
}

/** `GET /v1/balance`. */
const getBalanceSchema = merchantSchema("The merchant's balance in one currency", {
  querystring: CurrencyQuery,
  response: ok(MerchantBalanceJson),
});

/** The merchant's balance in the currency asked: available, and incoming (payments awaiting approval). */
async function getBalance(services: HttpServices, request: TypeboxRequest<typeof getBalanceSchema>) {
  const balance = await services.refunds.balance(merchantOf(request), request.query.currency);
  return {
    object: 'balance' as const,
    currency: request.query.currency,
    available: amountToJson(balance.available),
    incoming: amountToJson(balance.incoming),
  };
}

/** `GET /v1/events`. */
const listEventsSchema = merchantSchema('The events, newest first, as delivered to the webhook', {
  querystring: ListQuery,
  response: ok(listOf(EventJson)),
});

/** One page of the merchant's events, newest first. */
async function listEvents(services: HttpServices, request: TypeboxRequest<typeof listEventsSchema>) {
  return listJson(
    await services.webhooks.listEvents(
      merchantOf(request),
      limitOf(request.query),
      request.query.starting_after,
    ),
    eventJson,
  );
}

/** `GET /v1/events/:id`. */
const getEventSchema = merchantSchema('An event', { params: IdParams, response: ok(EventJson) });

/** The merchant's event. */
async function getEvent(services: HttpServices, request: TypeboxRequest<typeof getEventSchema>) {
  return eventJson(await services.webhooks.getEvent(merchantOf(request), request.params.id));
}

/** `GET /v1/webhook-deliveries`. */
const listDeliveriesSchema = merchantSchema('Webhook deliveries with every attempt, newest first', {
  querystring: ListQuery,
  response: ok(listOf(WebhookDeliveryJson)),
});

/** One page of the merchant's webhook deliveries, newest first. */
async function listDeliveries(services: HttpServices, request: TypeboxRequest<typeof listDeliveriesSchema>) {
  return listJson(
    await services.webhooks.listDeliveries(
      merchantOf(request),
      limitOf(request.query),
      request.query.starting_after,
    ),
    deliveryJson,
  );
}

/** `GET /v1/webhook-deliveries/:id`. */
const getDeliverySchema = merchantSchema('A webhook delivery with every attempt', {
  params: IdParams,
  response: ok(WebhookDeliveryJson),
});

/** The merchant's webhook delivery. */
async function getDelivery(services: HttpServices, request: TypeboxRequest<typeof getDeliverySchema>) {
  return deliveryJson(await services.webhooks.getDelivery(merchantOf(request), request.params.id));
}

/** `POST /v1/webhook-deliveries/:id/replay`. */
const replayDeliverySchema = merchantSchema(
  "Send a delivery's event again, now, to the current webhook URL",
  {
    response: created(WebhookDeliveryJson),
    params: IdParams,
    body: EmptyBody,
  },
);

/** Sends the delivery's event again as a new delivery; with an Idempotency-Key, a retry answers the same one. */
async function replayDelivery(
  services: HttpServices,
  request: TypeboxRequest<typeof replayDeliverySchema>,
  reply: TypeboxReply<typeof replayDeliverySchema>,
) {
  const merchantId = merchantOf(request);
  const replayed = await services.webhooks.replay(
    merchantId,
    request.params.id,
    scopedKey(request, merchantId),
  );
  return reply.code(201).send(deliveryJson(replayed));
}

/** `GET /v1/merchant`. */
const getSettingsSchema = merchantSchema("The merchant's own settings", { response: ok(MerchantJson) });

/** The merchant's own settings. */
async function getSettings(services: HttpServices, request: TypeboxRequest<typeof getSettingsSchema>) {
  return merchantJson(services.merchants.get(merchantOf(request)));
}

/** `POST /v1/merchant`. */
const setWebhookUrlSchema = merchantSchema('Set or clear the webhook URL', {
  body: Type.Object(
    {
      webhookUrl: Type.Union([
        Type.String({ minLength: 1, maxLength: merchantLimits.urlCharactersMax }),
        Type.Null(),
      ]),
    },
    { additionalProperties: false },
  ),
  response: ok(MerchantJson),
});

/** Sets the merchant's webhook URL, or clears it with null. */
async function setWebhookUrl(services: HttpServices, request: TypeboxRequest<typeof setWebhookUrlSchema>) {
  return merchantJson(services.merchants.setWebhookUrl(merchantOf(request), request.body.webhookUrl));
}

/** Routes of merchants. */
export function merchantRoutes(services: HttpServices): RoutePlugin {
  return (app) => {
    app.addHook('preValidation', emptyBodyAsObject);
    app.addHook('preHandler', requireMerchant(services.merchants));
    app.post('/v1/payment-requests', { schema: createPaymentRequestSchema }, (request, reply) =>
      createPaymentRequest(services, request, reply),
    );
    app.get('/v1/payment-requests', { schema: listPaymentRequestsSchema }, (request) =>
      listPaymentRequests(services, request),
    );
    app.get('/v1/payment-requests/:id', { schema: getPaymentRequestSchema }, (request) =>
      getPaymentRequest(services, request),
    );
    app.post('/v1/payment-requests/:id/cancel', { schema: cancelPaymentRequestSchema }, (request) =>
      cancelPaymentRequest(services, request),
    );
    app.post('/v1/payment-requests/:id/redeem', { schema: redeemPaymentRequestSchema }, (request) =>
      redeemPaymentRequest(services, request),
    );
    app.post('/v1/refunds', { schema: createRefundSchema }, (request, reply) =>
      createRefund(services, request, reply),
    );
    app.get('/v1/refunds', { schema: listRefundsSchema }, (request) => listRefunds(services, request));
    app.get('/v1/refunds/:id', { schema: getRefundSchema }, (request) => getRefund(services, request));
    app.get('/v1/balance', { schema: getBalanceSchema }, (request) => getBalance(services, request));
    app.get('/v1/events', { schema: listEventsSchema }, (request) => listEvents(services, request));
    app.get('/v1/events/:id', { schema: getEventSchema }, (request) => getEvent(services, request));
    app.get('/v1/webhook-deliveries', { schema: listDeliveriesSchema }, (request) =>
      listDeliveries(services, request),
    );
    app.get('/v1/webhook-deliveries/:id', { schema: getDeliverySchema }, (request) =>
      getDelivery(services, request),
    );
    app.post('/v1/webhook-deliveries/:id/replay', { schema: replayDeliverySchema }, (request, reply) =>
      replayDelivery(services, request, reply),
    );
    app.get('/v1/merchant', { schema: getSettingsSchema }, (request) => getSettings(services, request));
    app.post('/v1/merchant', { schema: setWebhookUrlSchema }, (request) => setWebhookUrl(services, request));
  };
}
