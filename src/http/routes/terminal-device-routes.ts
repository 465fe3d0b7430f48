/**
 * Second-terminal endpoints the device calls (docs/terminal.md): redeem an enrollment (signed with the key
 * it registers), then every request signed with that key: who am I, open challenges, the event stream,
 * approve or decline a payment, the payer's lock, revoke itself.
 */

import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { enrollmentSecretLength } from '../../domain/enrollment-uri.js';
import { limits } from '../../domain/limits.js';
import type { PayerLockState } from '../../services/parties/authentication-service.js';
import type { PasskeyApprovalInput } from '../../services/passkeys/passkey-service.js';
import type { AuthenticatedTerminal } from '../../services/terminals/terminal-service.js';
import { created, eventStreamOf, ok } from '../contract.js';
import type { FastifyTypebox, TypeboxReply, TypeboxRequest } from '../dependencies.js';
import { listOf, PaymentResponse, paymentJson, SecondCode, Uuid, VerificationCode } from '../schemas.js';
import type { HttpServices } from '../services.js';
import { PayerLockJson } from './operator-json.js';
import { type StreamTimings, streamTerminalEvents } from './terminal-events.js';
import {
  ChallengeJson,
  challengeJson,
  EnrolledTerminalJson,
  PasskeyApprovalOptionsJson,
  TerminalJson,
  TerminalLabel,
  terminalJson,
} from './terminal-json.js';
import { signedRequestOf } from './terminal-signed-request.js';

const terminalSecurity: { [name: string]: string[] }[] = [{ terminalSignature: [] }];
const PaymentParams = Type.Object({ id: Uuid });

/** The terminal whose key signed the request; an unsigned or badly signed request is refused. */
function terminalOf(services: HttpServices, request: FastifyRequest): Promise<AuthenticatedTerminal> {
  return services.terminals.authenticate(signedRequestOf(request));
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

/** `POST /v1/terminals/enroll`: the device redeems an enrollment. */
const enrollSchema = {
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
};

/** Redeems the enrollment with the key that signed the request, answering the new terminal. */
async function enroll(
  services: HttpServices,
  request: TypeboxRequest<typeof enrollSchema>,
  reply: TypeboxReply<typeof enrollSchema>,
) {
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
}

/** `GET /v1/terminal`. */
const getTerminalSchema = {
  tags: ['terminal'],
  summary: 'The terminal that signed the request',
  security: terminalSecurity,
  response: ok(TerminalJson),
};

/** The terminal that signed the request. */
async function getTerminal(services: HttpServices, request: FastifyRequest) {
  const terminal = await terminalOf(services, request);
  return terminalJson(await services.terminals.get(terminal.id));
}

/** `GET /v1/terminal/challenges`. */
const listChallengesSchema = {
  tags: ['terminal'],
  summary: 'Open challenges of the terminal: first code, amount, currency, payee, expiry',
  security: terminalSecurity,
  response: ok(listOf(ChallengeJson)),
};

/** The terminal's open challenges. */
async function listChallenges(services: HttpServices, request: FastifyRequest) {
  const terminal = await terminalOf(services, request);
  // The challenges are bounded (limits.terminalChallengesMax) and all open ones are answered at once.
  const data = (await services.terminals.challenges(terminal)).map(challengeJson);
  return { object: 'list' as const, data, hasMore: false };
}

/** `GET /v1/terminal/events`: the terminal's event stream. */
const streamEventsSchema = {
  tags: ['terminal'],
  summary: 'Server-Sent Events: challenges as they come, closed payments, revocation',
  security: terminalSecurity,
  response: eventStreamOf('challenge, closed and revoked events (docs/terminal.md, "Push")'),
};

/** Streams the terminal's events until the device or the server ends the stream. */
async function streamEvents(
  services: HttpServices,
  timings: StreamTimings,
  request: TypeboxRequest<typeof streamEventsSchema>,
  reply: TypeboxReply<typeof streamEventsSchema>,
) {
  const terminal = await terminalOf(services, request);
  await streamTerminalEvents(reply, terminal, services, timings);
}

/** `POST /v1/terminal/payments/:id/approve`: the OCRA second code computed on the terminal. */
const approvePaymentSchema = {
  tags: ['terminal'],
  summary: 'Approve a payment with the second code computed on the terminal (embodiment 1)',
  security: terminalSecurity,
  params: PaymentParams,
  body: Type.Object({ secondCode: SecondCode }, { additionalProperties: false }),
  response: ok(PaymentResponse),
};

/** Approves the payment with the terminal's second code. */
async function approvePayment(services: HttpServices, request: TypeboxRequest<typeof approvePaymentSchema>) {
  const terminal = await terminalOf(services, request);
  return paymentJson(await services.terminals.approve(terminal, request.params.id, request.body.secondCode));
}

/** `POST /v1/terminal/payments/:id/passkey-options`. */
const passkeyOptionsSchema = {
  tags: ['terminal'],
  summary:
    "Options to approve a payment with one of the payer's passkeys: the challenge binds the payment (id, first code, amount, currency, payee)",
  security: terminalSecurity,
  params: PaymentParams,
  response: ok(PasskeyApprovalOptionsJson),
};

/** The options of a passkey approval of the payment, for the terminal's payer. */
async function passkeyOptions(services: HttpServices, request: TypeboxRequest<typeof passkeyOptionsSchema>) {
  const terminal = await terminalOf(services, request);
  const ceremony = await services.passkeys.approvalOptions(terminal.payerId, request.params.id);
  return { object: 'passkey_approval_options' as const, ...ceremony };
}

/** `POST /v1/terminal/payments/:id/passkey-approve`. */
const passkeyApproveSchema = {
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
};

/** Approves the payment with the passkey assertion of the terminal's payer. */
async function passkeyApprove(services: HttpServices, request: TypeboxRequest<typeof passkeyApproveSchema>) {
  const terminal = await terminalOf(services, request);
  return paymentJson(
    await services.passkeys.approveForPayer(terminal.payerId, request.params.id, {
      challengeId: request.body.challengeId,
      response: request.body.response as unknown as PasskeyApprovalInput['response'],
    }),
  );
}

/** `POST /v1/terminal/payments/:id/decline`. */
const declinePaymentSchema = {
  tags: ['terminal'],
  summary: 'Decline (cancel) a payment the payer does not recognise',
  security: terminalSecurity,
  params: PaymentParams,
  response: ok(PaymentResponse),
};

/** Declines (cancels) the payment. */
async function declinePayment(services: HttpServices, request: TypeboxRequest<typeof declinePaymentSchema>) {
  const terminal = await terminalOf(services, request);
  return paymentJson(await services.terminals.decline(terminal, request.params.id));
}

/** `GET /v1/terminal/lock`. */
const getLockSchema = {
  tags: ['terminal'],
  summary: "The lock state of the terminal's payer: locked, until when, blocked by the operator",
  security: terminalSecurity,
  response: ok(PayerLockJson),
};

/** The lock state of the terminal's payer. */
async function getLock(services: HttpServices, request: FastifyRequest) {
  const terminal = await terminalOf(services, request);
  return lockJson(await services.authentication.lockState(terminal.payerId));
}

/** `POST /v1/terminal/unlock`. */
const unlockSchema = {
  tags: ['terminal'],
  summary: "Unlock the terminal's payer with the verification code (one attempt; never while blocked)",
  security: terminalSecurity,
  body: Type.Object({ verificationCode: VerificationCode }, { additionalProperties: false }),
  response: ok(PayerLockJson),
};

/** Unlocks the terminal's payer with the verification code. */
async function unlock(services: HttpServices, request: TypeboxRequest<typeof unlockSchema>) {
  const terminal = await terminalOf(services, request);
  return lockJson(await services.authentication.selfUnlock(terminal.payerId, request.body.verificationCode));
}

/** `POST /v1/terminal/revoke`: the terminal revokes itself. */
const revokeSelfSchema = {
  tags: ['terminal'],
  summary: 'Revoke the terminal that signs this request (the device is being reset or given away)',
  security: terminalSecurity,
  response: ok(TerminalJson),
};

/** Revokes the terminal that signed the request. */
async function revokeSelf(services: HttpServices, request: FastifyRequest) {
  const terminal = await terminalOf(services, request);
  return terminalJson(await services.terminals.revoke(terminal.id, 'terminal'));
}

/** The routes a device calls: the enrollment's redemption, then the routes of a signed request. */
export function registerDeviceRoutes(
  app: FastifyTypebox,
  services: HttpServices,
  timings: StreamTimings,
): void {
  app.post('/v1/terminals/enroll', { schema: enrollSchema }, (request, reply) =>
    enroll(services, request, reply),
  );
  app.get('/v1/terminal', { schema: getTerminalSchema }, (request) => getTerminal(services, request));
  app.get('/v1/terminal/challenges', { schema: listChallengesSchema }, (request) =>
    listChallenges(services, request),
  );
  app.get('/v1/terminal/events', { schema: streamEventsSchema }, (request, reply) =>
    streamEvents(services, timings, request, reply),
  );
  app.post('/v1/terminal/payments/:id/approve', { schema: approvePaymentSchema }, (request) =>
    approvePayment(services, request),
  );
  // A passkey on the terminal's device approves instead of the OCRA code: the signed request says which
  // terminal (so which payer) asks; the assertion, checked like on the payment's page, is the approval.
  app.post('/v1/terminal/payments/:id/passkey-options', { schema: passkeyOptionsSchema }, (request) =>
    passkeyOptions(services, request),
  );
  app.post(
    '/v1/terminal/payments/:id/passkey-approve',
    {
      schema: passkeyApproveSchema,
      // An authenticator's answer has the same bound here as in a page's form field, plus the envelope.
      bodyLimit: limits.passkeyResponseBytesMax + limits.passkeyApprovalEnvelopeBytesMax,
    },
    (request) => passkeyApprove(services, request),
  );
  app.post('/v1/terminal/payments/:id/decline', { schema: declinePaymentSchema }, (request) =>
    declinePayment(services, request),
  );
  app.get('/v1/terminal/lock', { schema: getLockSchema }, (request) => getLock(services, request));
  app.post('/v1/terminal/unlock', { schema: unlockSchema }, (request) => unlock(services, request));
  app.post('/v1/terminal/revoke', { schema: revokeSelfSchema }, (request) => revokeSelf(services, request));
}
