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
import type { RoutePlugin } from '../dependencies.js';
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

/** Routes of merchants. */
export function merchantRoutes(services: HttpServices): RoutePlugin {
  const { paymentRequests, refunds, webhooks, merchants } = services;
  const requestJson = (request: Parameters<typeof paymentRequestObject>[0]) =>
    asDeclared(PaymentRequestJson, paymentRequestObject(request, services.deps.settings.publicUrl));
  const refundJson = (refund: Parameters<typeof refundObject>[0]) =>
    asDeclared(RefundJson, refundObject(refund));

  return (app) => {
    app.addHook('preValidation', emptyBodyAsObject);
    app.addHook('preHandler', requireMerchant(merchants));
    const schema = <T extends object>(summary: string, parts: T) => ({
      tags: ['merchant'],
      summary,
      security: merchantSecurity,
      ...parts,
    });

    app.post(
      '/v1/payment-requests',
      {
        schema: schema('Ask to be paid: a payment request with a hosted checkout URL', {
          response: created(PaymentRequestJson),
          body: PaymentRequestCreate,
        }),
      },
      async (request, reply) => {
        const merchantId = merchantOf(request);
        const { amount, ...rest } = request.body;
        const created = await paymentRequests.create(
          merchantId,
          { ...rest, amount: amountFromJson(amount) },
          scopedKey(request, merchantId),
        );
        return reply.code(201).send(requestJson(created));
      },
    );

    app.get(
      '/v1/payment-requests',
      {
        schema: schema('The payment requests, newest first', {
          querystring: ListQuery,
          response: ok(listOf(PaymentRequestJson)),
        }),
      },
      async (request) => {
        const page = await paymentRequests.list(
          merchantOf(request),
          limitOf(request.query),
          request.query.starting_after,
        );
        return listJson(page, requestJson);
      },
    );

    app.get(
      '/v1/payment-requests/:id',
      {
        schema: schema('A payment request: open, paid (with its payment id), expired or canceled', {
          params: PaymentRequestIdParams,
          response: ok(PaymentRequestJson),
        }),
      },
      async (request) => requestJson(await paymentRequests.get(merchantOf(request), request.params.id)),
    );

    app.post(
      '/v1/payment-requests/:id/cancel',
      {
        schema: schema('Cancel an open payment request (a pending payment is canceled too)', {
          params: PaymentRequestIdParams,
          body: EmptyBody,
          response: ok(PaymentRequestJson),
        }),
      },
      async (request) => requestJson(await paymentRequests.cancel(merchantOf(request), request.params.id)),
    );

    app.post(
      '/v1/payment-requests/:id/redeem',
      {
        schema: schema('Redeem the second code the payer read off their second terminal (embodiment 3)', {
          params: PaymentRequestIdParams,
          body: Type.Object({ secondCode: SecondCode }, { additionalProperties: false }),
          response: ok(PaymentRequestJson),
        }),
      },
      async (request) =>
        requestJson(
          await paymentRequests.redeem(merchantOf(request), request.params.id, request.body.secondCode),
        ),
    );

    app.post(
      '/v1/refunds',
      {
        schema: schema('Refund all or part of a succeeded payment', {
          body: RefundCreate,
          response: created(RefundJson),
        }),
      },
      async (request, reply) => {
        const merchantId = merchantOf(request);
        const refund = await refunds.create(
          merchantId,
          {
            paymentId: request.body.paymentId,
            amount: request.body.amount === undefined ? undefined : amountFromJson(request.body.amount),
            metadata: request.body.metadata,
          },
          scopedKey(request, merchantId),
        );
        return reply.code(201).send(refundJson(refund));
      },
    );

    app.get(
      '/v1/refunds',
      {
        schema: schema('The refunds, newest first', {
          querystring: ListQuery,
          response: ok(listOf(RefundJson)),
        }),
      },
      async (request) =>
        listJson(
          await refunds.list(merchantOf(request), limitOf(request.query), request.query.starting_after),
          refundJson,
        ),
    );

    app.get(
      '/v1/refunds/:id',
      { schema: schema('A refund', { params: IdParams, response: ok(RefundJson) }) },
      async (request) => refundJson(await refunds.get(merchantOf(request), request.params.id)),
    );

    app.get(
      '/v1/balance',
      {
        schema: schema("The merchant's balance in one currency", {
          querystring: CurrencyQuery,
          response: ok(MerchantBalanceJson),
        }),
      },
      async (request) => {
        const balance = await refunds.balance(merchantOf(request), request.query.currency);
        return {
          object: 'balance' as const,
          currency: request.query.currency,
          available: amountToJson(balance.available),
          incoming: amountToJson(balance.incoming),
        };
      },
    );

    app.get(
      '/v1/events',
      {
        schema: schema('The events, newest first, as delivered to the webhook', {
          querystring: ListQuery,
          response: ok(listOf(EventJson)),
        }),
      },
      async (request) =>
        listJson(
          await webhooks.listEvents(
            merchantOf(request),
            limitOf(request.query),
            request.query.starting_after,
          ),
          eventJson,
        ),
    );

    app.get(
      '/v1/events/:id',
      { schema: schema('An event', { params: IdParams, response: ok(EventJson) }) },
      async (request) => eventJson(await webhooks.getEvent(merchantOf(request), request.params.id)),
    );

    app.get(
      '/v1/webhook-deliveries',
      {
        schema: schema('Webhook deliveries with every attempt, newest first', {
          querystring: ListQuery,
          response: ok(listOf(WebhookDeliveryJson)),
        }),
      },
      async (request) =>
        listJson(
          await webhooks.listDeliveries(
            merchantOf(request),
            limitOf(request.query),
            request.query.starting_after,
          ),
          deliveryJson,
        ),
    );

    app.get(
      '/v1/webhook-deliveries/:id',
      {
        schema: schema('A webhook delivery with every attempt', {
          params: IdParams,
          response: ok(WebhookDeliveryJson),
        }),
      },
      async (request) => deliveryJson(await webhooks.getDelivery(merchantOf(request), request.params.id)),
    );

    app.post(
      '/v1/webhook-deliveries/:id/replay',
      {
        schema: schema("Send a delivery's event again, now, to the current webhook URL", {
          response: created(WebhookDeliveryJson),
          params: IdParams,
          body: EmptyBody,
        }),
      },
      async (request, reply) => {
        const merchantId = merchantOf(request);
        const replayed = await webhooks.replay(merchantId, request.params.id, scopedKey(request, merchantId));
        return reply.code(201).send(deliveryJson(replayed));
      },
    );

    const merchantJson = async (view: Promise<{ id: string; name: string; webhookUrl: string | null }>) => ({
      object: 'merchant' as const,
      ...(await view),
    });
    app.get(
      '/v1/merchant',
      { schema: schema("The merchant's own settings", { response: ok(MerchantJson) }) },
      async (request) => merchantJson(merchants.get(merchantOf(request))),
    );

    app.post(
      '/v1/merchant',
      {
        schema: schema('Set or clear the webhook URL', {
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
        }),
      },
      async (request) => merchantJson(merchants.setWebhookUrl(merchantOf(request), request.body.webhookUrl)),
    );
  };
}
