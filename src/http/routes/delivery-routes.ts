/**
 * Operator endpoints of the delivery outbox: the messages, their attempts and errors, retrying a failed
 * one, and the development outbox (only with DEVELOPMENT_OUTBOX=true; otherwise it does not exist).
 * The outbox listing never shows a first code; the development outbox exists to show it.
 */

import { Type } from '@sinclair/typebox';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { tokenActor } from '../../domain/operator.js';
import type { DeliveryStatus } from '../../services/delivery/delivery-store.js';
import { ok } from '../contract.js';
import type { RoutePlugin, TypeboxRequest } from '../dependencies.js';
import { requireOperator } from '../operator-auth.js';
import { listOf, PartyId, Uuid } from '../schemas.js';
import type { HttpServices } from '../services.js';
import {
  DeliveryJson,
  DeliveryWithAttemptsJson,
  DevelopmentMessageJson,
  deliveryAttemptJson,
  deliveryJson,
  developmentMessageJson,
} from './terminal-json.js';

const operatorSecurity = [{ operatorToken: [] }];
// A query value is read as its declared type (query-coercion.ts): the page size is an integer.
const Limit = Type.Integer({
  minimum: 1,
  maximum: limits.pageSizeMax,
  description: `Page size, 1 to ${limits.pageSizeMax} (default ${limits.deliveryPageSizeDefault})`,
});
const limitOf = (limit: number | undefined): number => limit ?? limits.deliveryPageSizeDefault;
const Status = Type.Union(
  ['pending', 'delivered', 'failed', 'skipped'].map((status) => Type.Literal(status)),
);

/** `GET /v1/deliveries`: the outbox, newest first. */
const listDeliveriesSchema = {
  tags: ['operator'],
  summary: 'The delivery outbox, newest first (never a first code)',
  security: operatorSecurity,
  querystring: Type.Object(
    {
      status: Type.Optional(Status),
      payer_id: Type.Optional(PartyId),
      limit: Type.Optional(Limit),
      starting_after: Type.Optional(Uuid),
    },
    { additionalProperties: false },
  ),
  response: ok(listOf(DeliveryJson)),
};

/** One page of deliveries, filtered by status and payer, after the delivery `starting_after` names. */
async function listDeliveries(services: HttpServices, request: TypeboxRequest<typeof listDeliveriesSchema>) {
  const { status, payer_id: payerId, starting_after: startingAfter } = request.query;
  const limit = limitOf(request.query.limit);
  let cursor: { createdAtMs: number; id: string } | undefined;
  if (startingAfter !== undefined) {
    const after = await services.deliveries.get(startingAfter);
    cursor = { createdAtMs: after.delivery.createdAtMs, id: after.delivery.id };
  }
  const page = await services.deliveries.list({
    ...(status === undefined ? {} : { status: status as DeliveryStatus }),
    ...(payerId === undefined ? {} : { payerId }),
    ...(cursor === undefined ? {} : { startingAfter: cursor }),
    limit: limit + 1,
  });
  return {
    object: 'list' as const,
    data: page.slice(0, limit).map(deliveryJson),
    hasMore: page.length > limit,
  };
}

/** `GET /v1/deliveries/:id`: one delivery and its attempts. */
const getDeliverySchema = {
  tags: ['operator'],
  summary: 'One delivery with every attempt of every channel',
  security: operatorSecurity,
  params: Type.Object({ id: Uuid }),
  response: ok(DeliveryWithAttemptsJson),
};

/** The delivery with the log of its attempts. */
async function getDelivery(services: HttpServices, request: TypeboxRequest<typeof getDeliverySchema>) {
  const { delivery, attempts } = await services.deliveries.get(request.params.id);
  return { ...deliveryJson(delivery), attemptLog: attempts.map(deliveryAttemptJson) };
}

/** `POST /v1/deliveries/:id/retry`: a failed delivery, pending again. */
const retryDeliverySchema = {
  tags: ['operator'],
  summary: 'Make a failed delivery pending again',
  security: operatorSecurity,
  params: Type.Object({ id: Uuid }),
  response: ok(DeliveryJson),
};

/** Makes the failed delivery pending again, on the operator token's behalf. */
async function retryDelivery(services: HttpServices, request: TypeboxRequest<typeof retryDeliverySchema>) {
  return deliveryJson(await services.deliveries.retry(request.params.id, tokenActor));
}

/** `GET /v1/development-outbox`: the second-terminal messages with their first codes. */
const listDevelopmentMessagesSchema = {
  tags: ['operator'],
  summary: 'Development outbox: second-terminal messages with their first codes (DEVELOPMENT_OUTBOX)',
  security: operatorSecurity,
  querystring: Type.Object({ limit: Type.Optional(Limit) }, { additionalProperties: false }),
  response: ok(listOf(DevelopmentMessageJson)),
};

/** The newest development messages; without DEVELOPMENT_OUTBOX=true the route does not exist. */
async function listDevelopmentMessages(
  services: HttpServices,
  request: TypeboxRequest<typeof listDevelopmentMessagesSchema>,
) {
  if (!services.deliveries.developmentOutboxEnabled) throw new CountersignError('route_not_found');
  const messages = await services.deliveries.developmentMessages(limitOf(request.query.limit));
  // The newest `limit` messages; older ones are not paged to (the outbox keeps a day of them).
  return { object: 'list' as const, data: messages.map(developmentMessageJson), hasMore: false };
}

/** Operator routes of deliveries. */
export function deliveryRoutes(services: HttpServices): RoutePlugin {
  return (app) => {
    app.addHook('preHandler', requireOperator(services.operatorTokenHash));
    app.get('/v1/deliveries', { schema: listDeliveriesSchema }, (request) =>
      listDeliveries(services, request),
    );
    app.get('/v1/deliveries/:id', { schema: getDeliverySchema }, (request) => getDelivery(services, request));
    app.post('/v1/deliveries/:id/retry', { schema: retryDeliverySchema }, (request) =>
      retryDelivery(services, request),
    );
    app.get('/v1/development-outbox', { schema: listDevelopmentMessagesSchema }, (request) =>
      listDevelopmentMessages(services, request),
    );
  };
}
