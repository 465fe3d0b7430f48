/**
 * Operator endpoints for merchants: create one (its first API key and its webhook secret are shown once),
 * read it, list its keys by prefix, issue, rotate and revoke keys, and rotate the webhook secret. Every
 * route requires the operator's bearer token.
 */

import { Type } from '@sinclair/typebox';
import { merchantLimits } from '../../domain/limits.js';
import { tokenActor } from '../../domain/operator.js';
import { created, ok } from '../contract.js';
import type { RoutePlugin } from '../dependencies.js';
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

/** Routes of the operator about merchants. */
export function merchantOperatorRoutes(services: HttpServices): RoutePlugin {
  const { merchants } = services;
  const now = () => services.deps.clock.nowMs();
  return (app) => {
    app.addHook('preValidation', emptyBodyAsObject);
    app.addHook('preHandler', requireOperator(services.operatorTokenHash));
    const schema = <T extends object>(summary: string, parts: T) => ({
      tags: ['operator'],
      summary,
      security: operatorSecurity,
      ...parts,
    });

    app.post(
      '/v1/merchants',
      {
        schema: schema('Create a merchant: its API key and webhook secret are shown once', {
          response: created(CreatedMerchantJson),
          body: Type.Object(
            {
              id: PartyId,
              name: displayName(200),
              webhookUrl: Type.Optional(
                Type.String({ minLength: 1, maxLength: merchantLimits.urlCharactersMax }),
              ),
            },
            { additionalProperties: false },
          ),
        }),
      },
      async (request, reply) => {
        const created = await merchants.create(request.body, tokenActor);
        return reply.code(201).send({ object: 'merchant' as const, ...created });
      },
    );

    app.get(
      '/v1/merchants/:id',
      { schema: schema('A merchant', { params: MerchantParams, response: ok(MerchantJson) }) },
      async (request) => ({
        object: 'merchant' as const,
        ...(await merchants.get(request.params.id)),
      }),
    );

    app.get(
      '/v1/merchants/:id/api-keys',
      {
        schema: schema("A merchant's API keys, by prefix (never the keys)", {
          params: MerchantParams,
          response: ok(listOf(ApiKeyJson)),
        }),
      },
      async (request) => ({
        object: 'list' as const,
        data: (await merchants.listApiKeys(request.params.id)).map((key) => apiKeyJson(key, now())),
        hasMore: false,
      }),
    );

    app.post(
      '/v1/merchants/:id/api-keys',
      {
        schema: schema('Issue another API key (shown once)', {
          params: MerchantParams,
          body: EmptyBody,
          response: created(IssuedApiKeyJson),
        }),
      },
      async (request, reply) => {
        const issued = await merchants.createApiKey(request.params.id, tokenActor);
        return reply.code(201).send({ ...apiKeyJson(issued.key, now()), apiKey: issued.apiKey });
      },
    );

    app.post(
      '/v1/merchants/:id/api-keys/:keyId/rotate',
      {
        schema: schema('Rotate a key: a new key now, the old one stops after graceSeconds (default 0)', {
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
        }),
      },
      async (request, reply) => {
        const issued = await merchants.rotateApiKey(
          request.params.id,
          request.params.keyId,
          request.body.graceSeconds ?? 0,
          tokenActor,
        );
        return reply.code(201).send({ ...apiKeyJson(issued.key, now()), apiKey: issued.apiKey });
      },
    );

    app.post(
      '/v1/merchants/:id/api-keys/:keyId/revoke',
      {
        schema: schema('Revoke a key at once', {
          params: KeyParams,
          body: EmptyBody,
          response: ok(ApiKeyJson),
        }),
      },
      async (request) =>
        apiKeyJson(await merchants.revokeApiKey(request.params.id, request.params.keyId, tokenActor), now()),
    );

    app.post(
      '/v1/merchants/:id/webhook-secret/rotate',
      {
        schema: schema('Replace the webhook signing secret (shown once)', {
          params: MerchantParams,
          body: EmptyBody,
          response: ok(WebhookSecretJson),
        }),
      },
      async (request) => ({
        object: 'webhook_secret' as const,
        ...(await merchants.rotateWebhookSecret(request.params.id, tokenActor)),
      }),
    );
  };
}
