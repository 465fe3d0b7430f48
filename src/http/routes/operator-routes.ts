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
import type { RoutePlugin, TypeboxReply, TypeboxRequest } from '../dependencies.js';
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

/** An operator account's name, as a path segment or in a new account. */
const OperatorName = Type.String({
  pattern: operatorNamePattern.source,
  maxLength: limits.operatorNameLengthMax,
});

/** `POST /v1/backups`: a backup of the embedded database. */
const createBackupSchema = {
  response: { 201: filesOf(['application/octet-stream'], 'The backup file')[200] },
  tags: ['operator'],
  summary:
    'A consistent backup of the embedded database (never the master key), as a file: a manifest line, then the data',
  security: operatorSecurity,
};

/** Takes a backup and answers it as a file named after the moment it was taken. */
async function createBackup(services: MethodServices, reply: TypeboxReply<typeof createBackupSchema>) {
  const taken = await services.backups.create(tokenActor);
  return reply
    .code(201)
    .type('application/octet-stream')
    .header(
      'content-disposition',
      `attachment; filename="countersign-${taken.manifest.createdAt.replace(/[:.]/g, '-')}.backup"`,
    )
    .send(taken.file);
}

/** `GET /v1/exports/:kind`: exports for the books. */
const exportSchema = {
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
};

/** Streams the export of one kind over the range asked, as CSV or JSON Lines. */
async function streamExport(
  services: MethodServices,
  request: TypeboxRequest<typeof exportSchema>,
  reply: TypeboxReply<typeof exportSchema>,
) {
  // Everything is checked before the first byte: a bad request answers an error, never half a file.
  const { kind, format, range } = parseExportRequest({ kind: request.params.kind, ...request.query });
  const chunks = services.exports.file(tokenActor, kind, format, range);
  return reply
    .type(exportContentType(format))
    .header('content-disposition', `attachment; filename="${exportFileName(kind, format, range)}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(chunks));
}

/** `POST /v1/operators`: a new operator account. */
const createOperatorSchema = {
  response: created(CreatedOperatorJson),
  tags: ['operator'],
  summary: 'Create an operator account: its one-time set-up code is shown once',
  security: operatorSecurity,
  body: Type.Object(
    { name: OperatorName, role: Type.Union(operatorRoles.map((role) => Type.Literal(role))) },
    { additionalProperties: false },
  ),
};

/** Creates the operator account, answering its one-time set-up code (shown this once). */
async function createOperator(
  services: MethodServices,
  request: TypeboxRequest<typeof createOperatorSchema>,
  reply: TypeboxReply<typeof createOperatorSchema>,
) {
  const created = await services.operators.create(request.body, tokenActor);
  return reply.code(201).send({
    object: 'operator' as const,
    id: created.id,
    name: created.name,
    role: created.role,
    setupCode: created.setupCode,
    setupExpiresAt: new Date(created.setupExpiresAtMs).toISOString(),
  });
}

/** `GET /v1/operators`. */
const listOperatorsSchema = {
  tags: ['operator'],
  summary: 'Operator accounts with their roles and open console sessions',
  security: operatorSecurity,
  response: ok(OperatorListJson),
};

/** Every operator account, with its role and its number of open console sessions. */
async function listOperators(services: MethodServices) {
  return {
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
  };
}

/** `POST /v1/operators/:name/end-sessions`. */
const endSessionsSchema = {
  tags: ['operator'],
  summary: 'End every console session of an operator at once',
  security: operatorSecurity,
  params: Type.Object({ name: OperatorName }),
  response: ok(EndedSessionsJson),
};

/** Ends every console session of the operator, answering how many were ended. */
async function endSessions(services: MethodServices, request: TypeboxRequest<typeof endSessionsSchema>) {
  return {
    object: 'operator_sessions' as const,
    name: request.params.name,
    ended: await services.operators.endSessions(request.params.name, tokenActor),
  };
}

/** `POST /v1/payers`: a new payer. */
const createPayerSchema = {
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
};

/** Creates the payer, answering its first terminal's key (shown this once) unless it has none. */
async function createPayer(
  services: MethodServices,
  request: TypeboxRequest<typeof createPayerSchema>,
  reply: TypeboxReply<typeof createPayerSchema>,
) {
  const payer = await services.parties.createPayer(request.body, tokenActor);
  return reply.code(201).send({ object: 'payer' as const, ...payer });
}

/** `POST /v1/payees`: a new payee. */
const createPayeeSchema = {
  response: created(PayeeJson),
  tags: ['operator'],
  summary: 'Create a payee',
  security: operatorSecurity,
  body: Type.Object(
    { id: PartyId, name: displayName(limits.payeeNameLengthMax) },
    { additionalProperties: false },
  ),
};

/** Creates the payee. */
async function createPayee(
  services: MethodServices,
  request: TypeboxRequest<typeof createPayeeSchema>,
  reply: TypeboxReply<typeof createPayeeSchema>,
) {
  return reply.code(201).send({
    object: 'payee' as const,
    ...(await services.parties.createPayee(request.body, tokenActor)),
  });
}

/** `POST /v1/deposits`: money into a payer's wallet. */
const createDepositSchema = {
  response: created(DepositJson),
  tags: ['operator'],
  summary: "Credit a payer's wallet",
  security: operatorSecurity,
  body: Type.Object(
    { payerId: PartyId, amount: Amount, currency: Currency },
    { additionalProperties: false },
  ),
};

/** Credits the payer's wallet; with an Idempotency-Key, a retry answers the same deposit. */
async function createDeposit(
  services: MethodServices,
  request: TypeboxRequest<typeof createDepositSchema>,
  reply: TypeboxReply<typeof createDepositSchema>,
) {
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
}

/** `GET /v1/payers/:id/balance`. */
const payerBalanceSchema = {
  tags: ['operator'],
  summary: "A payer's balance",
  security: operatorSecurity,
  params: IdParams,
  querystring: CurrencyQuery,
  response: ok(PayerBalanceJson),
};

/** The payer's balance in the currency asked: available, and held by open payments. */
async function payerBalance(services: MethodServices, request: TypeboxRequest<typeof payerBalanceSchema>) {
  const balance = await services.parties.payerBalance(request.params.id, request.query.currency);
  return {
    object: 'balance' as const,
    payerId: request.params.id,
    currency: request.query.currency,
    available: amountToJson(balance.available),
    held: amountToJson(balance.held),
  };
}

/** `GET /v1/payees/:id/balance`. */
const payeeBalanceSchema = {
  tags: ['operator'],
  summary: "A payee's balance",
  security: operatorSecurity,
  params: IdParams,
  querystring: CurrencyQuery,
  response: ok(PayeeBalanceJson),
};

/** The payee's balance in the currency asked: available, and incoming (held by payments not yet approved). */
async function payeeBalance(services: MethodServices, request: TypeboxRequest<typeof payeeBalanceSchema>) {
  const balance = await services.parties.payeeBalance(request.params.id, request.query.currency);
  return {
    object: 'balance' as const,
    payeeId: request.params.id,
    currency: request.query.currency,
    available: amountToJson(balance.available),
    incoming: amountToJson(balance.incoming),
  };
}

/** `POST /v1/payers/:id/unlock`. */
const unlockPayerSchema = {
  tags: ['operator'],
  summary: 'Lift the lock of a payer',
  security: operatorSecurity,
  params: IdParams,
  response: ok(PayerLockChangeJson),
};

/** Lifts the payer's lock, whether failed attempts or the operator's block set it. */
async function unlockPayer(services: MethodServices, request: TypeboxRequest<typeof unlockPayerSchema>) {
  await services.authentication.unlock(request.params.id, tokenActor);
  return { object: 'payer' as const, id: request.params.id, locked: false };
}

/** `POST /v1/payers/:id/block`. */
const blockPayerSchema = {
  tags: ['operator'],
  summary: 'Block a payer until the operator unlocks it: every authentication answers payer_locked',
  security: operatorSecurity,
  params: IdParams,
  response: ok(PayerLockChangeJson),
};

/** Blocks the payer until the operator unlocks it. */
async function blockPayer(services: MethodServices, request: TypeboxRequest<typeof blockPayerSchema>) {
  await services.authentication.block(request.params.id, tokenActor);
  return { object: 'payer' as const, id: request.params.id, locked: true };
}

/** Routes of the operator. */
export function operatorRoutes(services: MethodServices): RoutePlugin {
  return (app) => {
    app.addHook('preHandler', requireOperator(services.operatorTokenHash));
    app.post('/v1/backups', { schema: createBackupSchema }, (_request, reply) =>
      createBackup(services, reply),
    );
    app.get('/v1/exports/:kind', { schema: exportSchema }, (request, reply) =>
      streamExport(services, request, reply),
    );
    app.post('/v1/operators', { schema: createOperatorSchema }, (request, reply) =>
      createOperator(services, request, reply),
    );
    app.get('/v1/operators', { schema: listOperatorsSchema }, () => listOperators(services));
    app.post('/v1/operators/:name/end-sessions', { schema: endSessionsSchema }, (request) =>
      endSessions(services, request),
    );
    app.post('/v1/payers', { schema: createPayerSchema }, (request, reply) =>
      createPayer(services, request, reply),
    );
    app.post('/v1/payees', { schema: createPayeeSchema }, (request, reply) =>
      createPayee(services, request, reply),
    );
    app.post('/v1/deposits', { schema: createDepositSchema }, (request, reply) =>
      createDeposit(services, request, reply),
    );
    app.get('/v1/payers/:id/balance', { schema: payerBalanceSchema }, (request) =>
      payerBalance(services, request),
    );
    app.get('/v1/payees/:id/balance', { schema: payeeBalanceSchema }, (request) =>
      payeeBalance(services, request),
    );
    app.post('/v1/payers/:id/unlock', { schema: unlockPayerSchema }, (request) =>
      unlockPayer(services, request),
    );
    app.post('/v1/payers/:id/block', { schema: blockPayerSchema }, (request) =>
      blockPayer(services, request),
    );
  };
}
