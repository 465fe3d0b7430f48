/**
 * Payer endpoints: sessions and payments (create, approve, cancel, read). Approval needs no login: whoever
 * holds the codes may submit them (the payer, their second terminal, or a merchant in embodiment 3).
 */

import { timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { CountersignError } from '../../domain/errors.js';
import type { Approval } from '../../services/payment-service.js';
import type { RoutePlugin } from '../dependencies.js';
import { bearerToken, hashOperatorToken } from '../operator-auth.js';
import { authenticatePayer, sessionPayer } from '../payer-auth.js';
import {
  Amount,
  Currency,
  DeliverTo,
  FirstCode,
  PartyId,
  Password,
  PaymentIdParams,
  paymentJson,
  SecondCode,
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
    param: body.secondCode === undefined ? 'secondCode' : 'firstCode',
    message: 'Send either secondCode, or firstCode together with verificationCode.',
  });
}

/** Routes of payers and of whoever holds a payment's codes. */
export function paymentRoutes(services: MethodServices): RoutePlugin {
  const isOperator = (token: string | undefined): boolean =>
    token !== undefined && timingSafeEqual(hashOperatorToken(token), Buffer.from(services.operatorTokenHash));

  return (app) => {
    app.post(
      '/v1/sessions',
      {
        schema: {
          tags: ['payer'],
          summary: 'Sign in: a bearer token for 5 idle minutes, 30 in all',
          body: Type.Object(
            { payerId: Type.String({ minLength: 1, maxLength: 64 }), password: Password },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const session = await services.authentication.createSession(
          request.body.payerId,
          request.body.password,
        );
        return reply.code(201).send({
          token: session.token,
          payerId: session.payerId,
          expiresAt: new Date(session.expiresAtMs).toISOString(),
        });
      },
    );

    app.post(
      '/v1/payments',
      {
        schema: {
          tags: ['payer'],
          summary: 'Create a payment: hold the amount and issue the first code',
          body: Type.Object(
            {
              payerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
              password: Type.Optional(Password),
              payeeId: PartyId,
              amount: Amount,
              currency: Currency,
              deliverTo: DeliverTo,
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const payerId = await authenticatePayer(request, request.body, services.authentication);
        const created = await services.payments.create({
          payerId,
          payeeId: request.body.payeeId,
          amount: BigInt(request.body.amount),
          currency: request.body.currency,
          deliverTo: request.body.deliverTo,
          ...(request.idempotencyKey === undefined
            ? {}
            : { idempotencyKey: `payer:${payerId}:${request.idempotencyKey}` }),
        });
        return reply.code(201).send(paymentJson(created.payment, created.firstCode));
      },
    );

    app.post(
      '/v1/payments/:id/approve',
      {
        schema: {
          tags: ['payer'],
          summary:
            'Approve with the second code (embodiment 1) or first code and verification code (embodiment 2)',
          params: PaymentIdParams,
          body: Type.Object(
            {
              secondCode: Type.Optional(SecondCode),
              firstCode: Type.Optional(FirstCode),
              verificationCode: Type.Optional(VerificationCode),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request) =>
        paymentJson(await services.payments.approve(request.params.id, approvalOf(request.body))),
    );

    app.post(
      '/v1/payments/:id/cancel',
      {
        schema: {
          tags: ['payer'],
          summary: 'Cancel an open payment and release its hold',
          params: PaymentIdParams,
          body: Type.Optional(
            Type.Object(
              {
                payerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
                password: Type.Optional(Password),
              },
              { additionalProperties: false },
            ),
          ),
        },
      },
      async (request) => {
        const payerId = await authenticatePayer(request, request.body ?? {}, services.authentication);
        return paymentJson(await services.payments.cancel(request.params.id, payerId));
      },
    );

    app.get(
      '/v1/payments/:id',
      {
        schema: {
          tags: ['payer', 'operator'],
          summary: 'A payment (operator, or its payer’s session)',
          params: PaymentIdParams,
        },
      },
      async (request) => {
        if (isOperator(bearerToken(request)))
          return paymentJson(await services.payments.get(request.params.id));
        const payerId = await sessionPayer(request, services.authentication);
        if (payerId === undefined) throw new CountersignError('authentication_required');
        return paymentJson(await services.payments.get(request.params.id, payerId));
      },
    );
  };
}
