/**
 * Payer endpoints: sessions and payments (create, approve, cancel, read). Approval needs no login: whoever
 * holds the codes may submit them (the payer, their second terminal, or a merchant in embodiment 3).
 */

import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { checkMetadata } from '../../domain/metadata.js';
import { amountFromJson } from '../../domain/money.js';
import type { Approval } from '../../services/payments/payment-service.js';
import { created, ok } from '../contract.js';
import type { RoutePlugin, TypeboxReply, TypeboxRequest } from '../dependencies.js';
import { runWithIdempotencyKey } from '../idempotency.js';
import { bearerToken } from '../operator-auth.js';
import {
  authenticatedPayer,
  type OperatorOrPayer,
  operatorOrSession,
  passwordAuthentication,
  payerAuthentication,
  sessionPayer,
} from '../payer-auth.js';
import {
  Amount,
  ClaimedPayerId,
  Currency,
  DeliverTo,
  FirstCode,
  listOf,
  MetadataJson,
  objectOf,
  PartyId,
  Password,
  PaymentIdParams,
  PaymentOutcomeJson,
  PaymentResponse,
  paymentJson,
  SecondCode,
  Timestamp,
  Uuid,
  VerificationCode,
} from '../schemas.js';
import type { MethodServices } from '../services.js';

function approvalOf(body: { secondCode?: string; firstCode?: string; verificationCode?: string }): Approval {
  if (body.secondCode !== undefined && body.firstCode === undefined && body.verificationCode === undefined) {
    return { secondCode: body.secondCode };
  }
  if (body.secondCode === undefined && body.firstCode !== undefined && body.verificationCode !== undefined) {
    return { firstCode: body.firstCode, verificationCode: body.verificationCode };
  }
  throw new CountersignError('invalid_request', {
    param: misplacedApprovalField(body),
    message: 'Send either secondCode, or firstCode together with verificationCode.',
  });
}

/** The field to name when an approval's fields form neither embodiment. */
function misplacedApprovalField(body: {
  secondCode?: string;
  firstCode?: string;
  verificationCode?: string;
}): string {
  // A second code came with an embodiment-2 field: that field is the one too many.
  if (body.secondCode !== undefined) return body.firstCode !== undefined ? 'firstCode' : 'verificationCode';
  // Half of embodiment 2: name the missing half.
  if (body.firstCode !== undefined) return 'verificationCode';
  if (body.verificationCode !== undefined) return 'firstCode';
  // Nothing at all: the simplest complete approval is the second code.
  return 'secondCode';
}

/**
 * Whom a new payment pays: a merchant's payment request, or a payee with amount and currency; never both,
 * so that a payer cannot change what a request asks for.
 */
function paymentTargetOf(body: {
  payeeId?: string;
  amount?: number;
  currency?: string;
  paymentRequestId?: string;
}): { paymentRequestId: string } | { payeeId: string; amount: bigint; currency: string } {
  const { payeeId, amount, currency, paymentRequestId } = body;
  if (paymentRequestId !== undefined) {
    if (payeeId === undefined && amount === undefined && currency === undefined) return { paymentRequestId };
    throw new CountersignError('invalid_request', {
      param: payeeId !== undefined ? 'payeeId' : amount !== undefined ? 'amount' : 'currency',
      message: 'A payment for a paymentRequestId takes payee, amount and currency from the request.',
    });
  }
  if (payeeId !== undefined && amount !== undefined && currency !== undefined) {
    return { payeeId, amount: amountFromJson(amount), currency };
  }
  throw new CountersignError('invalid_request', {
    param: payeeId === undefined ? 'payeeId' : amount === undefined ? 'amount' : 'currency',
    message: 'Send payeeId, amount and currency, or a paymentRequestId.',
  });
}

const sessionSecurity = [{ payerSession: [] }];

/**
 * Query of `GET /v1/payments`. A query value is read as its declared type (query-coercion.ts), so the page
 * size is an integer: 1 to `limits.pageSizeMax`.
 */
const PaymentListQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: limits.pageSizeMax,
        description: `Page size, 1 to ${limits.pageSizeMax} (default ${limits.pageSizeDefault})`,
      }),
    ),
    starting_after: Type.Optional(
      Type.String({ pattern: Uuid.pattern, description: 'Id of the last payment of the previous page' }),
    ),
  },
  { additionalProperties: false },
);

/** What the payment handlers share: the services, and the operator's token hash that recognises the operator. */
interface PaymentRouteContext {
  readonly services: MethodServices;
  readonly operatorTokenHashes: readonly Buffer[];
}

/** The operator or a session's payer, or undefined without a bearer token (`operatorOrSession`). */
function readerOf(
  context: PaymentRouteContext,
  request: FastifyRequest,
): Promise<OperatorOrPayer | undefined> {
  return operatorOrSession(request, context.operatorTokenHashes, context.services.authentication);
}

/** `POST /v1/sessions`: a payer's password for a bearer token. */
const openSessionSchema = {
  tags: ['payer'],
  summary: 'Sign in: a bearer token for 5 idle minutes, 30 in all',
  response: created(
    Type.Object(
      {
        object: objectOf('session'),
        token: Type.String(),
        payerId: Type.String(),
        expiresAt: Timestamp,
      },
      { additionalProperties: false },
    ),
  ),
  body: Type.Object({ payerId: ClaimedPayerId, password: Password }, { additionalProperties: false }),
};

/** Opens a session for the payer whose password the pre-handler checked. */
async function openSession(
  services: MethodServices,
  request: TypeboxRequest<typeof openSessionSchema>,
  reply: TypeboxReply<typeof openSessionSchema>,
) {
  const session = await services.authentication.openSession(authenticatedPayer(request));
  return reply.code(201).send({
    object: 'session' as const,
    token: session.token,
    payerId: session.payerId,
    expiresAt: new Date(session.expiresAtMs).toISOString(),
  });
}

/** `POST /v1/payments`: a payer's payment to a payee or for a merchant's payment request. */
const createPaymentSchema = {
  tags: ['payer'],
  summary: 'Create a payment: hold the amount and issue the first code',
  response: created(PaymentResponse),
  body: Type.Object(
    {
      payerId: Type.Optional(ClaimedPayerId),
      password: Type.Optional(Password),
      payeeId: Type.Optional(PartyId),
      amount: Type.Optional(Amount),
      currency: Type.Optional(Currency),
      paymentRequestId: Type.Optional(
        Type.String({
          pattern: Uuid.pattern,
          description: "A merchant's payment request, instead of payee, amount and currency",
        }),
      ),
      deliverTo: DeliverTo,
      metadata: Type.Optional(MetadataJson),
    },
    { additionalProperties: false },
  ),
};

/**
 * Refuses a new payment's malformed target or metadata. It runs before the password is checked, so that a
 * malformed request counts no attempt and writes nothing (the service checks the metadata again, with the
 * same rule).
 */
async function checkPaymentTarget(request: FastifyRequest) {
  const body = request.body as Parameters<typeof paymentTargetOf>[0] & { metadata?: unknown };
  paymentTargetOf(body);
  checkMetadata(body.metadata);
}

/** Creates the payment, claiming the request's idempotency key in the payment's own batch. */
async function createPayment(
  services: MethodServices,
  request: TypeboxRequest<typeof createPaymentSchema>,
  reply: TypeboxReply<typeof createPaymentSchema>,
) {
  const payerId = authenticatedPayer(request);
  const idempotency =
    request.idempotencyKey === undefined
      ? {}
      : { idempotencyKey: `payer:${payerId}:${request.idempotencyKey}` };
  const { deliverTo, metadata } = request.body;
  // For a payment request, payee, amount and currency come from the request and cannot be changed.
  // Every refusal comes from inside the operation, where it becomes the key's answer (the target was
  // checked before the password already; reading it again refuses nothing new).
  const run = await runWithIdempotencyKey(request, reply, (ticket) => {
    const target = paymentTargetOf(request.body);
    return 'paymentRequestId' in target
      ? services.paymentRequests.pay({ payerId, deliverTo, metadata, ...target, ...idempotency }, ticket)
      : services.payments.create({ payerId, deliverTo, metadata, ...target, ...idempotency }, ticket);
  });
  if (run.replayed) return reply;
  return reply.code(201).send(paymentJson(run.value.payment, run.value.firstCode));
}

/** `POST /v1/payments/:id/approve`: whoever holds the codes approves. */
const approvePaymentSchema = {
  tags: ['payer'],
  summary: 'Approve with the second code (embodiment 1) or first code and verification code (embodiment 2)',
  params: PaymentIdParams,
  // Only the operator and the payer's own session learn more than the outcome (see below).
  response: ok(Type.Union([PaymentResponse, PaymentOutcomeJson])),
  body: Type.Object(
    {
      secondCode: Type.Optional(SecondCode),
      firstCode: Type.Optional(FirstCode),
      verificationCode: Type.Optional(VerificationCode),
    },
    { additionalProperties: false },
  ),
};

/** Approves the payment with the codes of either embodiment, claiming the key in the approval's batch. */
async function approvePayment(
  context: PaymentRouteContext,
  request: TypeboxRequest<typeof approvePaymentSchema>,
  reply: TypeboxReply<typeof approvePaymentSchema>,
) {
  // Who the caller is, when it says: known before the approval, so that a dead session or a wrong token
  // is refused with nothing approved (and the refusal is the key's answer, like any other).
  let reader: OperatorOrPayer | undefined;
  const run = await runWithIdempotencyKey(request, reply, async (ticket) => {
    reader = await readerOf(context, request);
    return context.services.payments.approve(request.params.id, approvalOf(request.body), ticket);
  });
  if (run.replayed) return reply;
  const payment = run.value;
  // Holding the codes proves nothing about who the caller is (a merchant's till, a shoulder): only the
  // operator and the payer's own session learn more than the outcome.
  const mayRead = reader !== undefined && (reader.operator || reader.payerId === payment.payerId);
  return mayRead
    ? paymentJson(payment)
    : { id: payment.id, object: 'payment' as const, status: payment.status };
}

/** `POST /v1/payments/:id/cancel`: the payer cancels an open payment. */
const cancelPaymentSchema = {
  tags: ['payer'],
  summary: 'Cancel an open payment and release its hold',
  params: PaymentIdParams,
  response: ok(PaymentResponse),
  // Fastify validates an absent body as null: `nullable` lets a session-authenticated cancel
  // come without one, which `Type.Optional` alone does not.
  body: Type.Optional(
    Type.Object(
      {
        payerId: Type.Optional(ClaimedPayerId),
        password: Type.Optional(Password),
      },
      { additionalProperties: false, nullable: true },
    ),
  ),
};

/** Cancels the payment of the payer the pre-handler authenticated. */
async function cancelPayment(services: MethodServices, request: TypeboxRequest<typeof cancelPaymentSchema>) {
  const payerId = authenticatedPayer(request);
  return paymentJson(await services.payments.cancel(request.params.id, payerId));
}

/** `GET /v1/payments`: the payer's own payments. */
const listPaymentsSchema = {
  tags: ['payer'],
  summary: 'The payer’s own payments, newest first (session)',
  security: sessionSecurity,
  querystring: PaymentListQuery,
  response: ok(listOf(PaymentResponse)),
};

/** One page of the session's payer's payments, newest first. */
async function listPayments(services: MethodServices, request: TypeboxRequest<typeof listPaymentsSchema>) {
  const payerId = await sessionPayer(request, services.authentication);
  if (payerId === undefined) throw new CountersignError('authentication_required');
  const page = await services.payments.listForPayer(payerId, {
    limit: request.query.limit ?? limits.pageSizeDefault,
    ...(request.query.starting_after === undefined ? {} : { startingAfter: request.query.starting_after }),
  });
  return {
    object: 'list' as const,
    data: page.payments.map((payment) => paymentJson(payment)),
    hasMore: page.hasMore,
  };
}

/** `POST /v1/sessions/current/revoke`: sign out. */
const revokeSessionSchema = {
  tags: ['payer'],
  summary: 'Sign out: end the session of the bearer token at once',
  security: sessionSecurity,
  response: ok(
    Type.Object(
      { object: objectOf('session'), revoked: Type.Literal(true) },
      { additionalProperties: false },
    ),
  ),
};

/** Ends the session of the request's bearer token. */
async function revokeSession(services: MethodServices, request: TypeboxRequest<typeof revokeSessionSchema>) {
  const token = bearerToken(request);
  if (token === undefined) throw new CountersignError('authentication_required');
  // Only a live session can end itself: an unknown or dead token is refused like anywhere else.
  await services.authentication.authenticateSession(token);
  await services.authentication.revokeSession(token);
  return { object: 'session' as const, revoked: true as const };
}

/** `GET /v1/payments/:id`: one payment, to the operator or its payer. */
const getPaymentSchema = {
  tags: ['payer', 'operator'],
  summary: 'A payment (operator, or its payer’s session)',
  params: PaymentIdParams,
  response: ok(PaymentResponse),
};

/** The payment, to the operator or to a session of its payer. */
async function getPayment(context: PaymentRouteContext, request: TypeboxRequest<typeof getPaymentSchema>) {
  const reader = await readerOf(context, request);
  if (reader === undefined) throw new CountersignError('authentication_required');
  const payments = context.services.payments;
  return paymentJson(
    await (reader.operator
      ? payments.get(request.params.id)
      : payments.get(request.params.id, reader.payerId)),
  );
}

/** Routes of payers and of whoever holds a payment's codes. */
export function paymentRoutes(services: MethodServices): RoutePlugin {
  const context: PaymentRouteContext = {
    services,
    operatorTokenHashes: [Buffer.from(services.operatorTokenHash)],
  };
  return (app) => {
    app.post(
      '/v1/sessions',
      { preHandler: passwordAuthentication(services.authentication), schema: openSessionSchema },
      (request, reply) => openSession(services, request, reply),
    );
    app.post(
      '/v1/payments',
      {
        // The key is claimed in the payment's own batch (docs/performance.md).
        config: { idempotencyInOperation: true },
        // The target and the metadata are checked before the password (checkPaymentTarget).
        preHandler: [checkPaymentTarget, payerAuthentication(services.authentication)],
        schema: createPaymentSchema,
      },
      (request, reply) => createPayment(services, request, reply),
    );
    app.post(
      '/v1/payments/:id/approve',
      { config: { idempotencyInOperation: true }, schema: approvePaymentSchema },
      (request, reply) => approvePayment(context, request, reply),
    );
    app.post(
      '/v1/payments/:id/cancel',
      { preHandler: payerAuthentication(services.authentication), schema: cancelPaymentSchema },
      (request) => cancelPayment(services, request),
    );
    app.get('/v1/payments', { schema: listPaymentsSchema }, (request) => listPayments(services, request));
    app.post('/v1/sessions/current/revoke', { schema: revokeSessionSchema }, (request) =>
      revokeSession(services, request),
    );
    app.get('/v1/payments/:id', { schema: getPaymentSchema }, (request) => getPayment(context, request));
  };
}
