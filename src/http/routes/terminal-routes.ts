/**
 * Second-terminal endpoints (docs/terminal.md).
 *
 * - Management, by the operator or the payer's own session: issue an enrollment, show its QR code and
 *   state, list and revoke terminals.
 * - The device: redeem an enrollment (signed with the key it registers), then every request signed with
 *   that key: who am I, open challenges, the event stream, approve or decline a payment, revoke itself.
 */

import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { enrollmentSecretLength } from '../../domain/enrollment-uri.js';
import { CountersignError } from '../../domain/errors.js';
import { limits, ocraLimits } from '../../domain/limits.js';
import { tokenActor } from '../../domain/operator.js';
import type { PayerLockState } from '../../services/parties/authentication-service.js';
import type { PasskeyApprovalInput } from '../../services/passkeys/passkey-service.js';
import type { Viewer } from '../../services/terminals/terminal-enrollment-service.js';
import type { AuthenticatedTerminal } from '../../services/terminals/terminal-service.js';
import { created, eventStreamOf, fileOf, ok } from '../contract.js';
import type { RoutePlugin } from '../dependencies.js';
import { bearerToken, matchesTokenHash } from '../operator-auth.js';
import {
  listOf,
  PartyId,
  PaymentResponse,
  paymentJson,
  SecondCode,
  Uuid,
  VerificationCode,
} from '../schemas.js';
import type { HttpServices } from '../services.js';
import { PayerLockJson } from './operator-json.js';
import { type StreamTimings, streamTerminalEvents, streamTimings } from './terminal-events.js';
import {
  ChallengeJson,
  challengeJson,
  EnrolledTerminalJson,
  EnrollmentJson,
  enrollmentJson,
  IssuedEnrollmentJson,
  issuedEnrollmentJson,
  PasskeyApprovalOptionsJson,
  TerminalJson,
  TerminalLabel,
  terminalJson,
} from './terminal-json.js';
import { keepRawJsonBodies, signedRequestOf } from './terminal-signed-request.js';

const managementSecurity: { [name: string]: string[] }[] = [{ operatorToken: [] }, { payerSession: [] }];
const terminalSecurity: { [name: string]: string[] }[] = [{ terminalSignature: [] }];
const IdParams = Type.Object({ id: Uuid });
const PayerParams = Type.Object({ id: PartyId });

/** Options of the terminal routes; tests shorten the stream timers. */
export interface TerminalRouteOptions {
  readonly streamTimings?: StreamTimings;
}

/** Routes of second terminals and of their management. */
export function terminalRoutes(services: HttpServices, options: TerminalRouteOptions = {}): RoutePlugin {
  const operatorTokenHashes = [Buffer.from(services.operatorTokenHash)];

  /**
   * The operator (any payer) or a payer's session (only `payerId`, when given). A session of another
   * payer is `forbidden` without looking the payer up, so that it learns nothing about other ids.
   */
  async function viewerOf(request: FastifyRequest, payerId?: string): Promise<Viewer> {
    const token = bearerToken(request);
    if (token === undefined) throw new CountersignError('authentication_required');
    if (matchesTokenHash(token, operatorTokenHashes)) return {};
    const session = await services.authentication.authenticateSession(token);
    if (payerId !== undefined && session.payerId !== payerId) throw new CountersignError('forbidden');
    return { payerId: session.payerId };
  }

  const terminalOf = (request: FastifyRequest): Promise<AuthenticatedTerminal> =>
    services.terminals.authenticate(signedRequestOf(request));

  return (app, deps) => {
    keepRawJsonBodies(app);
    // Streams are long-lived: they end before the server waits for open connections to finish.
    app.addHook('preClose', async () => services.terminalHub.closeAll());
    const publicUrl = deps.config.publicUrl;

    app.post(
      '/v1/payers/:id/terminals',
      {
        schema: {
          response: created(IssuedEnrollmentJson),
          tags: ['terminal'],
          summary: 'Issue an enrollment for a new second terminal of a payer',
          security: managementSecurity,
          params: PayerParams,
          body: Type.Optional(
            Type.Object(
              {
                label: Type.Optional(TerminalLabel),
                suite: Type.Optional(Type.String({ maxLength: ocraLimits.suiteLengthMax })),
              },
              { additionalProperties: false, nullable: true },
            ),
          ),
        },
      },
      async (request, reply) => {
        const viewer = await viewerOf(request, request.params.id);
        const issued = await services.enrollments.issue({
          payerId: request.params.id,
          ...request.body,
          by: viewer.payerId === undefined ? tokenActor : 'payer',
        });
        return reply.code(201).send(issuedEnrollmentJson(issued, publicUrl));
      },
    );

    app.get(
      '/v1/payers/:id/terminals',
      {
        schema: {
          tags: ['terminal'],
          summary: "A payer's terminals, revoked ones included",
          security: managementSecurity,
          params: PayerParams,
          response: ok(listOf(TerminalJson)),
        },
      },
      async (request) => {
        await viewerOf(request, request.params.id);
        // Every terminal of a payer fits one page (a payer has a handful), so there is never a next page.
        const data = (await services.terminals.list(request.params.id)).map(terminalJson);
        return { object: 'list' as const, data, hasMore: false };
      },
    );

    app.post(
      '/v1/terminals/:id/revoke',
      {
        schema: {
          tags: ['terminal'],
          summary: 'Revoke a terminal at once',
          security: managementSecurity,
          params: IdParams,
          response: ok(TerminalJson),
        },
      },
      async (request) => {
        const viewer = await viewerOf(request);
        // Only the operator token reaches here without a payer: it acts as the bootstrap operator.
        const by = viewer.payerId === undefined ? tokenActor : 'payer';
        return terminalJson(await services.terminals.revoke(request.params.id, by, viewer.payerId));
      },
    );

    app.get(
      '/v1/enrollments/:id',
      {
        schema: {
          tags: ['terminal'],
          summary: "An enrollment's state (open, redeemed, expired, canceled)",
          security: managementSecurity,
          params: IdParams,
          response: ok(EnrollmentJson),
        },
      },
      async (request) => {
        const viewer = await viewerOf(request);
        return enrollmentJson(await services.enrollments.get(request.params.id, viewer));
      },
    );

    app.get(
      '/v1/enrollments/:id/qr.svg',
      {
        schema: {
          tags: ['terminal'],
          summary: "QR code of an open enrollment's URI, as SVG",
          security: managementSecurity,
          params: IdParams,
          response: fileOf('image/svg+xml', 'The QR code as an SVG image'),
        },
      },
      async (request, reply) => {
        const viewer = await viewerOf(request);
        const svg = await services.enrollments.qrCode(request.params.id, viewer, 'svg');
        return reply.type('image/svg+xml').send(svg);
      },
    );

    app.get(
      '/v1/enrollments/:id/qr.png',
      {
        schema: {
          tags: ['terminal'],
          summary: "QR code of an open enrollment's URI, as PNG",
          security: managementSecurity,
          params: IdParams,
          response: fileOf('image/png', 'The QR code as a PNG image'),
        },
      },
      async (request, reply) => {
        const viewer = await viewerOf(request);
        const png = await services.enrollments.qrCode(request.params.id, viewer, 'png');
        return reply.type('image/png').send(png);
      },
    );

    app.post(
      '/v1/terminals/enroll',
      {
        schema: {
          response: created(EnrolledTerminalJson),
          tags: ['terminal'],
          summary: 'Redeem an enrollment: register the device key (signed with it) and confirm the code',
          security: terminalSecurity,
          body: Type.Object(
            {
              enrollmentId: Uuid,
              secret: Type.String({ pattern: `^[A-Za-z0-9_-]{${enrollmentSecretLength}}$` }),
              publicKey: Type.String({ minLength: 1, maxLength: limits.terminalPublicKeyLengthMax }),
              confirmationCode: SecondCode,
              label: Type.Optional(TerminalLabel),
            },
            { additionalProperties: false },
          ),
        },
      },
      async (request, reply) => {
        const terminal = await services.enrollments.redeem({
          request: signedRequestOf(request),
          ...request.body,
        });
        return reply.code(201).send({
          object: 'enrollment_redemption' as const,
          terminal: {
            id: terminal.id,
            payerId: terminal.payerId,
            suite: terminal.suite,
            label: terminal.label,
            enrolledAt: new Date(terminal.enrolledAtMs).toISOString(),
          },
        });
      },
    );

    registerSignedRoutes(app, services, terminalOf, options.streamTimings ?? streamTimings);
  };
}

/** The routes a device calls with a signed request. */
function registerSignedRoutes(
  app: Parameters<RoutePlugin>[0],
  services: HttpServices,
  terminalOf: (request: FastifyRequest) => Promise<AuthenticatedTerminal>,
  timings: StreamTimings,
): void {
  const PaymentParams = Type.Object({ id: Uuid });

  app.get(
    '/v1/terminal',
    {
      schema: {
        tags: ['terminal'],
        summary: 'The terminal that signed the request',
        security: terminalSecurity,
        response: ok(TerminalJson),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return terminalJson(await services.terminals.get(terminal.id));
    },
  );

  app.get(
    '/v1/terminal/challenges',
    {
      schema: {
        tags: ['terminal'],
        summary: 'Open challenges of the terminal: first code, amount, currency, payee, expiry',
        security: terminalSecurity,
        response: ok(listOf(ChallengeJson)),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      // The challenges are bounded (limits.terminalChallengesMax) and all open ones are answered at once.
      const data = (await services.terminals.challenges(terminal)).map(challengeJson);
      return { object: 'list' as const, data, hasMore: false };
    },
  );

  app.get(
    '/v1/terminal/events',
    {
      schema: {
        tags: ['terminal'],
        summary: 'Server-Sent Events: challenges as they come, closed payments, revocation',
        security: terminalSecurity,
        response: eventStreamOf('challenge, closed and revoked events (docs/terminal.md, "Push")'),
      },
    },
    async (request, reply) => {
      const terminal = await terminalOf(request);
      await streamTerminalEvents(reply, terminal, services, timings);
    },
  );

  app.post(
    '/v1/terminal/payments/:id/approve',
    {
      schema: {
        tags: ['terminal'],
        summary: 'Approve a payment with the second code computed on the terminal (embodiment 1)',
        security: terminalSecurity,
        params: PaymentParams,
        body: Type.Object({ secondCode: SecondCode }, { additionalProperties: false }),
        response: ok(PaymentResponse),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return paymentJson(
        await services.terminals.approve(terminal, request.params.id, request.body.secondCode),
      );
    },
  );

  // A passkey on the terminal's device approves instead of the OCRA code: the signed request says which
  // terminal (so which payer) asks; the assertion, checked like on the payment's page, is the approval.
  app.post(
    '/v1/terminal/payments/:id/passkey-options',
    {
      schema: {
        tags: ['terminal'],
        summary:
          "Options to approve a payment with one of the payer's passkeys: the challenge binds the payment (id, first code, amount, currency, payee)",
        security: terminalSecurity,
        params: PaymentParams,
        response: ok(PasskeyApprovalOptionsJson),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      const ceremony = await services.passkeys.approvalOptions(terminal.payerId, request.params.id);
      return { object: 'passkey_approval_options' as const, ...ceremony };
    },
  );

  app.post(
    '/v1/terminal/payments/:id/passkey-approve',
    {
      schema: {
        tags: ['terminal'],
        summary:
          'Approve a payment with a passkey assertion over the challenge of its options; a refused assertion counts as a wrong second code',
        security: terminalSecurity,
        params: PaymentParams,
        body: Type.Object(
          {
            challengeId: Uuid,
            response: Type.Object({}, { additionalProperties: true }),
          },
          { additionalProperties: false },
        ),
        response: ok(PaymentResponse),
      },
      // An authenticator's answer has the same bound here as in a page's form field, plus the envelope.
      bodyLimit: limits.passkeyResponseBytesMax + 1024,
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return paymentJson(
        await services.passkeys.approveForPayer(terminal.payerId, request.params.id, {
          challengeId: request.body.challengeId,
          response: request.body.response as unknown as PasskeyApprovalInput['response'],
        }),
      );
    },
  );

  app.post(
    '/v1/terminal/payments/:id/decline',
    {
      schema: {
        tags: ['terminal'],
        summary: 'Decline (cancel) a payment the payer does not recognise',
        security: terminalSecurity,
        params: PaymentParams,
        response: ok(PaymentResponse),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return paymentJson(await services.terminals.decline(terminal, request.params.id));
    },
  );

  app.get(
    '/v1/terminal/lock',
    {
      schema: {
        tags: ['terminal'],
        summary: "The lock state of the terminal's payer: locked, until when, blocked by the operator",
        security: terminalSecurity,
        response: ok(PayerLockJson),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return lockJson(await services.authentication.lockState(terminal.payerId));
    },
  );

  app.post(
    '/v1/terminal/unlock',
    {
      schema: {
        tags: ['terminal'],
        summary: "Unlock the terminal's payer with the verification code (one attempt; never while blocked)",
        security: terminalSecurity,
        body: Type.Object({ verificationCode: VerificationCode }, { additionalProperties: false }),
        response: ok(PayerLockJson),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return lockJson(
        await services.authentication.selfUnlock(terminal.payerId, request.body.verificationCode),
      );
    },
  );

  app.post(
    '/v1/terminal/revoke',
    {
      schema: {
        tags: ['terminal'],
        summary: 'Revoke the terminal that signs this request (the device is being reset or given away)',
        security: terminalSecurity,
        response: ok(TerminalJson),
      },
    },
    async (request) => {
      const terminal = await terminalOf(request);
      return terminalJson(await services.terminals.revoke(terminal.id, 'terminal'));
    },
  );
}

/** A payer's lock state as JSON: ISO time of the lock's end, or null. */
function lockJson(state: PayerLockState) {
  return {
    object: 'payer_lock' as const,
    locked: state.locked,
    lockedUntil: state.lockedUntilMs === null ? null : new Date(state.lockedUntilMs).toISOString(),
    blocked: state.blocked,
    consecutiveFailures: state.consecutiveFailures,
  };
}
