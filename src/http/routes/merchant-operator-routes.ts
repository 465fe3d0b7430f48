/**
 * Operator endpoints for merchants: create one (its first API key and its webhook secret are shown once),
 * read it, list its keys by prefix, issue, rotate and revoke keys, and rotate the webhook secret. Every
 * route requires the operator's bearer token.
 */

import { Type } from '@sinclair/typebox';
import { limits, merchantLimits } from '../../domain/limits.js';
import { tokenActor } from '../../domain/operator.js';
import { created, ok } from '../contract.js';
import type { RoutePlugin, TypeboxReply, TypeboxRequest } from '../dependencies.js';
import {
  ApiKeyJson,
  apiKeyJson,
  CreatedMerchantJson,
  EmptyBody,
  emptyBodyAsObject,
  IssuedApiKeyJson,
  listOf,
  MerchantJson,
  WebhookSecretJson,
} from '../merchant-json.js';
import { requireOperator } from '../operator-auth.js';
import { displayName, PartyId, Uuid } from '../schemas.js';
import type { HttpServices } from '../services.js';

const operatorSecurity = [{ operatorToken: [] }];
const MerchantParams = Type.Object({ id: PartyId });
const KeyParams = Type.Object({ id: PartyId, keyId: Uuid });

/** An operator route's schema: its tags and security, with its own summary and parts. */
function operatorSchema<T extends object>(summary: string, parts: T) {
  return {
    tags: ['operator'],
    summary,
    security: operatorSecurity,
    ...parts,
  };
}

/** The platform's time now, which a key's state (active, expired, revoked) is read at. */
function nowMs(services: HttpServices): number {
  return services.deps.clock.nowMs();
}

/** `POST /v1/merchants`: a new merchant. */
const createMerchantSchema = operatorSchema(
  'Create a merchant: its API key and webhook secret are shown once',
  {
    response: created(CreatedMerchantJson),
    body: Type.Object(
      {
        id: PartyId,
        name: displayName(limits.payeeNameLengthMax),
        webhookUrl: Type.Optional(Type.String({ minLength: 1, maxLength: merchantLimits.urlCharactersMax })),
      },
      { additionalProperties: false },
    ),
  },
);

/** Creates the merchant, answering its first API key and webhook secret (shown this once). */
async function createMerchant(
  services: HttpServices,
  request: TypeboxRequest<typeof createMerchantSchema>,
  reply: TypeboxReply<typeof createMerchantSchema>,
) {
  const created = await services.merchants.create(request.body, tokenActor);
  return reply.code(201).send({ object: 'merchant' as const, ...created });
}

/** `GET /v1/merchants/:id`. */
const getMerchantSchema = operatorSchema('A merchant', {
  params: MerchantParams,
  response: ok(MerchantJson),
});

/** The merchant. */
async function getMerchant(services: HttpServices, request: TypeboxRequest<typeof getMerchantSchema>) {
  return { object: 'merchant' as const, ...(await services.merchants.get(request.params.id)) };
}

/** `GET /v1/merchants/:id/api-keys`: the keys by prefix. */
const listApiKeysSchema = operatorSchema("A merchant's API keys, by prefix (never the keys)", {
  params: MerchantParams,
  response: ok(listOf(ApiKeyJson)),
});

/** The merchant's API keys, each by its prefix and state. */
async function listApiKeys(services: HttpServices, request: TypeboxRequest<typeof listApiKeysSchema>) {
  return {
    object: 'list' as const,
    data: (await services.merchants.listApiKeys(request.params.id)).map((key) =>
      apiKeyJson(key, nowMs(services)),
    ),
    hasMore: false,
  };
}

/** `POST /v1/merchants/:id/api-keys`: another key. */
const createApiKeySchema = operatorSchema('Issue another API key (shown once)', {
  params: MerchantParams,
  body: EmptyBody,
  response: created(IssuedApiKeyJson),
});

/** Issues the merchant another API key, answered this once. */
async function createApiKey(
  services: HttpServices,
  request: TypeboxRequest<typeof createApiKeySchema>,
  reply: TypeboxReply<typeof createApiKeySchema>,
) {
  const issued = await services.merchants.createApiKey(request.params.id, tokenActor);
  return reply.code(201).send({ ...apiKeyJson(issued.key, nowMs(services)), apiKey: issued.apiKey });
}

/** `POST /v1/merchants/:id/api-keys/:keyId/rotate`: a new key for an old one. */
const rotateApiKeySchema = operatorSchema(
  'Rotate a key: a new key now, the old one stops after graceSeconds (default 0)',
  {
    response: created(IssuedApiKeyJson),
    params: KeyParams,
    body: Type.Object(
      {
        graceSeconds: Type.Optional(
          Type.Integer({ minimum: 0, maximum: merchantLimits.rotationGraceSecondsMax }),
        ),
      },
      // May be left out (emptyBodyAsObject); `nullable` says so in the document.
      { additionalProperties: false, nullable: true },
    ),
  },
);

/** Issues a key in place of the old one, which stops after the grace period; the new key is answered once. */
async function rotateApiKey(
  services: HttpServices,
  request: TypeboxRequest<typeof rotateApiKeySchema>,
  reply: TypeboxReply<typeof rotateApiKeySchema>,
) {
  const issued = await services.merchants.rotateApiKey(
    request.params.id,
    request.params.keyId,
    request.body.graceSeconds ?? 0,
    tokenActor,
  );
  return reply.code(201).send({ ...apiKeyJson(issued.key, nowMs(services)), apiKey: issued.apiKey });
}

/** `POST /v1/merchants/:id/api-keys/:keyId/revoke`: a key stops at once. */
const revokeApiKeySchema = operatorSchema('Revoke a key at once', {
  params: KeyParams,
  body: EmptyBody,
  response: ok(ApiKeyJson),
});

/** Revokes the key at once. */
async function revokeApiKey(services: HttpServices, request: TypeboxRequest<typeof revokeApiKeySchema>) {
  const { id, keyId } = request.params;
  return apiKeyJson(await services.merchants.revokeApiKey(id, keyId, tokenActor), nowMs(services));
}

/** `POST /v1/merchants/:id/webhook-secret/rotate`: a new signing secret. */
const rotateWebhookSecretSchema = operatorSchema('Replace the webhook signing secret (shown once)', {
  params: MerchantParams,
  body: EmptyBody,
  response: ok(WebhookSecretJson),
});

/** Replaces the merchant's webhook signing secret, answering the new one this once. */
async function rotateWebhookSecret(
  services: HttpServices,
  request: TypeboxRequest<typeof rotateWebhookSecretSchema>,
) {
  return {
    object: 'webhook_secret' as const,
    ...(await services.merchants.rotateWebhookSecret(request.params.id, tokenActor)),
  };
}

/** Routes of the operator about merchants. */
export function merchantOperatorRoutes(services: HttpServices): RoutePlugin {
  return (app) => {
    app.addHook('preValidation', emptyBodyAsObject);
    app.addHook('preHandler', requireOperator(services.operatorTokenHash));
    app.post('/v1/merchants', { schema: createMerchantSchema }, (request, reply) =>
      createMerchant(services, request, reply),
    );
    app.get('/v1/merchants/:id', { schema: getMerchantSchema }, (request) => getMerchant(services, request));
    app.get('/v1/merchants/:id/api-keys', { schema: listApiKeysSchema }, (request) =>
      listApiKeys(services, request),
    );
    app.post('/v1/merchants/:id/api-keys', { schema: createApiKeySchema }, (request, reply) =>
      createApiKey(services, request, reply),
    );
    app.post('/v1/merchants/:id/api-keys/:keyId/rotate', { schema: rotateApiKeySchema }, (request, reply) =>
      rotateApiKey(services, request, reply),
    );
    app.post('/v1/merchants/:id/api-keys/:keyId/revoke', { schema: revokeApiKeySchema }, (request) =>
      revokeApiKey(services, request),
    );
    app.post('/v1/merchants/:id/webhook-secret/rotate', { schema: rotateWebhookSecretSchema }, (request) =>
      rotateWebhookSecret(services, request),
    );
  };
}
