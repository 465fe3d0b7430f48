/**
 * Operator endpoints: payers, payees, deposits, balances, unlocking, and operator accounts (so that
 * automation can create them while the server runs). Every route requires the operator's bearer token.
 */

import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import {
  exportContentType,
  exportFileName,
  exportKinds,
  parseExportRequest,
} from '../../domain/export-format.js';
import { limits, ocraLimits } from '../../domain/limits.js';
import { amountFromJson, amountToJson } from '../../domain/money.js';
import { operatorNamePattern, operatorRoles, tokenActor } from '../../domain/operator.js';
import { created, filesOf, ok } from '../contract.js';
import type { RoutePlugin } from '../dependencies.js';
import { requireOperator } from '../operator-auth.js';
import {
  Amount,
  Currency,
  CurrencyQuery,
  displayName,
  IdParams,
  PartyId,
  VerificationCode,
} from '../schemas.js';
import type { MethodServices } from '../services.js';
import {
  CreatedOperatorJson,
  CreatedPayerJson,
  DepositJson,
  EndedSessionsJson,
  OperatorListJson,
  PayeeBalanceJson,
  PayeeJson,
  PayerBalanceJson,
  PayerLockChangeJson,
} from './operator-json.js';

const operatorSecurity = [{ operatorToken: [] }];

/** Routes of the operator. */
export function operatorRoutes(services: MethodServices): RoutePlugin {
  return (app) => {
    app.addHook('preHandler', requireOperator(services.operatorTokenHash));

    app.post(
      '/v1/backups',
      {
        schema: {
          response: { 201: filesOf(['application/octet-stream'], 'The backup file')[200] },
          tags: ['operator'],
          summary:
            'A consistent backup of the embedded database (never the master key), as a file: a manifest line, then the data',
          security: operatorSecurity,
        },
      },
      async (_request, reply) => {
        const taken = await services.backups.create(tokenActor);
        return reply
          .code(201)
          .type('application/octet-stream')
          .header(
            'content-disposition',
            `attachment; filename="countersign-${taken.manifest.createdAt.replace(/[:.]/g, '-')}.backup"`,
          )
          .send(taken.file);
      },
    );

    app.get(
      '/v1/exports/:kind',
      {
        schema: {
          tags: ['operator'],
          summary:
            'Exports for the books: every transfer, payment or refund created in [from, to), streamed as CSV or JSON Lines',
          security: operatorSecurity,
          response: filesOf(['text/csv', 'application/x-ndjson'], 'The export, streamed'),
          params: Type.Object({
            kind: Type.String({ maxLength: limits.exportQueryValueLengthMax, examples: [...exportKinds] }),
          }),
          querystring: Type.Object(
            {
              from: Type.String({
                maxLength: limits.exportQueryValueLengthMax,
                description: 'UTC date or instant, inclusive',
              }),
              to: Type.String({
                maxLength: limits.exportQueryValueLengthMax,
                description: 'UTC date or instant, exclusive',
              }),
              format: Type.String({ maxLength: limits.exportFormatLengthMax, default: 'csv' }),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        // Everything is checked before the first byte: a bad request answers an error, never half a file.
        const { kind, format, range } = parseExportRequest({ kind: request.params.kind, ...request.query });
        const chunks = services.exports.file(tokenActor, kind, format, range);
        return reply
          .type(exportContentType(format))
          .header('content-disposition', `attachment; filename="${exportFileName(kind, format, range)}"`)
          .header('cache-control', 'no-store')
          .send(Readable.from(chunks));
      },
    );

    const OperatorName = Type.String({
      pattern: operatorNamePattern.source,
      maxLength: limits.operatorNameLengthMax,
    });
    app.post(
      '/v1/operators',
      {
        schema: {
          response: created(CreatedOperatorJson),
          tags: ['operator'],
          summary: 'Create an operator account: its one-time set-up code is shown once',
          security: operatorSecurity,
          body: Type.Object(
            { name: OperatorName, role: Type.Union(operatorRoles.map((role) => Type.Literal(role))) },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const created = await services.operators.create(request.body, tokenActor);
        return reply.code(201).send({
          object: 'operator' as const,
          id: created.id,
          name: created.name,
          role: created.role,
          setupCode: created.setupCode,
          setupExpiresAt: new Date(created.setupExpiresAtMs).toISOString(),
        });
      },
    );

    app.get(
      '/v1/operators',
      {
        schema: {
          tags: ['operator'],
          summary: 'Operator accounts with their roles and open console sessions',
          security: operatorSecurity,
          response: ok(OperatorListJson),
        },
      },
      async () => ({
        object: 'list' as const,
        data: (await services.operators.list(tokenActor)).map((operator) => ({
          object: 'operator' as const,
          id: operator.id,
          name: operator.name,
          role: operator.role,
          active: operator.active,
          openSessions: operator.openSessions,
          createdBy: operator.createdBy,
          createdAt: new Date(operator.createdAtMs).toISOString(),
        })),
        hasMore: false,
      }),
    );

    app.post(
      '/v1/operators/:name/end-sessions',
      {
        schema: {
          tags: ['operator'],
          summary: 'End every console session of an operator at once',
          security: operatorSecurity,
          params: Type.Object({ name: OperatorName }),
          response: ok(EndedSessionsJson),
        },
      },
      async (request) => ({
        object: 'operator_sessions' as const,
        name: request.params.name,
        ended: await services.operators.endSessions(request.params.name, tokenActor),
      }),
    );

    app.post(
      '/v1/payers',
      {
        schema: {
          response: created(CreatedPayerJson),
          tags: ['operator'],
          summary:
            'Create a payer with its first second-terminal key, or with no terminal (firstTerminal: none) to add passkeys later',
          security: operatorSecurity,
          body: Type.Object(
            {
              id: PartyId,
              password: Type.String({
                minLength: limits.passwordLengthMin,
                maxLength: limits.passwordLengthMax,
              }),
              verificationCode: VerificationCode,
              suite: Type.Optional(Type.String({ maxLength: ocraLimits.suiteLengthMax })),
              firstTerminal: Type.Optional(
                Type.Union([Type.Literal('ocra'), Type.Literal('none')], {
                  description:
                    'ocra (default): an OCRA terminal, its key answered once; none: no second terminal, the payer adds passkeys from their pages',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const payer = await services.parties.createPayer(request.body, tokenActor);
        return reply.code(201).send({ object: 'payer' as const, ...payer });
      },
    );

    app.post(
      '/v1/payees',
      {
        schema: {
          response: created(PayeeJson),
          tags: ['operator'],
          summary: 'Create a payee',
          security: operatorSecurity,
          body: Type.Object({ id: PartyId, name: displayName(200) }, { additionalProperties: false }),
        },
      },
      async (request, reply) =>
        reply.code(201).send({
          object: 'payee' as const,
          ...(await services.parties.createPayee(request.body, tokenActor)),
        }),
    );

    app.post(
      '/v1/deposits',
      {
        schema: {
          response: created(DepositJson),
          tags: ['operator'],
          summary: "Credit a payer's wallet",
          security: operatorSecurity,
          body: Type.Object(
            { payerId: PartyId, amount: Amount, currency: Currency },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const deposit = await services.parties.deposit(
          {
            payerId: request.body.payerId,
            amount: amountFromJson(request.body.amount),
            currency: request.body.currency,
            ...(request.idempotencyKey === undefined
              ? {}
              : { idempotencyKey: `operator:${request.idempotencyKey}` }),
          },
          tokenActor,
        );
        return reply
          .code(201)
          .send({ object: 'deposit' as const, ...deposit, amount: amountToJson(deposit.amount) });
      },
    );

    app.get(
      '/v1/payers/:id/balance',
      {
        schema: {
          tags: ['operator'],
          summary: "A payer's balance",
          security: operatorSecurity,
          params: IdParams,
          querystring: CurrencyQuery,
          response: ok(PayerBalanceJson),
        },
      },
      async (request) => {
        const balance = await services.parties.payerBalance(request.params.id, request.query.currency);
        return {
          object: 'balance' as const,
          payerId: request.params.id,
          currency: request.query.currency,
          available: amountToJson(balance.available),
          held: amountToJson(balance.held),
        };
      },
    );

    app.get(
      '/v1/payees/:id/balance',
      {
        schema: {
          tags: ['operator'],
          summary: "A payee's balance",
          security: operatorSecurity,
          params: IdParams,
          querystring: CurrencyQuery,
          response: ok(PayeeBalanceJson),
        },
      },
      async (request) => {
        const balance = await services.parties.payeeBalance(request.params.id, request.query.currency);
        return {
          object: 'balance' as const,
          payeeId: request.params.id,
          currency: request.query.currency,
          available: amountToJson(balance.available),
          incoming: amountToJson(balance.incoming),
        };
      },
    );

    app.post(
      '/v1/payers/:id/unlock',
      {
        schema: {
          tags: ['operator'],
          summary: 'Lift the lock of a payer',
          security: operatorSecurity,
          params: IdParams,
          response: ok(PayerLockChangeJson),
        },
      },
      async (request) => {
        await services.authentication.unlock(request.params.id, tokenActor);
        return { object: 'payer' as const, id: request.params.id, locked: false };
      },
    );

    app.post(
      '/v1/payers/:id/block',
      {
        schema: {
          tags: ['operator'],
          summary: 'Block a payer until the operator unlocks it: every authentication answers payer_locked',
          security: operatorSecurity,
          params: IdParams,
          response: ok(PayerLockChangeJson),
        },
      },
      async (request) => {
        await services.authentication.block(request.params.id, tokenActor);
        return { object: 'payer' as const, id: request.params.id, locked: true };
      },
    );
  };
}
