/**
 * Second-terminal endpoints (docs/terminal.md).
 *
 * - Management, by the operator or the payer's own session: issue an enrollment, show its QR code and
 *   state, list and revoke terminals.
 * - The device: redeem an enrollment (signed with the key it registers), then every request signed with
 *   that key (terminal-device-routes.ts).
 */

import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { ocraLimits } from '../../domain/limits.js';
import { tokenActor } from '../../domain/operator.js';
import type { Viewer } from '../../services/terminals/terminal-enrollment-service.js';
import { created, fileOf, ok } from '../contract.js';
import type { RoutePlugin, TypeboxReply, TypeboxRequest } from '../dependencies.js';
import { operatorOrSession } from '../payer-auth.js';
import { listOf, PartyId, Uuid } from '../schemas.js';
import type { HttpServices } from '../services.js';
import { registerDeviceRoutes } from './terminal-device-routes.js';
import { streamTimings } from './terminal-events.js';
import {
  EnrollmentJson,
  enrollmentJson,
  IssuedEnrollmentJson,
  issuedEnrollmentJson,
  TerminalJson,
  TerminalLabel,
  terminalJson,
} from './terminal-json.js';
import { keepRawJsonBodies } from './terminal-signed-request.js';

const managementSecurity: { [name: string]: string[] }[] = [{ operatorToken: [] }, { payerSession: [] }];
const IdParams = Type.Object({ id: Uuid });
const PayerParams = Type.Object({ id: PartyId });

/**
 * What the management handlers share: the services, the operator's token hash that recognises the
 * operator, and the public URL an enrollment's URI points to.
 */
interface ManagementContext {
  readonly services: HttpServices;
  readonly operatorTokenHashes: readonly Buffer[];
  readonly publicUrl: string;
}

/**
 * The operator (any payer) or a payer's session (only `payerId`, when given). A session of another
 * payer is `forbidden` without looking the payer up, so that it learns nothing about other ids.
 */
async function viewerOf(
  context: ManagementContext,
  request: FastifyRequest,
  payerId?: string,
): Promise<Viewer> {
  const reader = await operatorOrSession(
    request,
    context.operatorTokenHashes,
    context.services.authentication,
  );
  if (reader === undefined) throw new CountersignError('authentication_required');
  if (reader.operator) return {};
  if (payerId !== undefined && reader.payerId !== payerId) throw new CountersignError('forbidden');
  return { payerId: reader.payerId };
}

/** `POST /v1/payers/:id/terminals`: an enrollment for a new terminal. */
const issueEnrollmentSchema = {
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
};

/** Issues the payer an enrollment, answering its secret and URI (shown this once). */
async function issueEnrollment(
  context: ManagementContext,
  request: TypeboxRequest<typeof issueEnrollmentSchema>,
  reply: TypeboxReply<typeof issueEnrollmentSchema>,
) {
  const viewer = await viewerOf(context, request, request.params.id);
  const issued = await context.services.enrollments.issue({
    payerId: request.params.id,
    ...request.body,
    by: viewer.payerId === undefined ? tokenActor : 'payer',
  });
  return reply.code(201).send(issuedEnrollmentJson(issued, context.publicUrl));
}

/** `GET /v1/payers/:id/terminals`. */
const listTerminalsSchema = {
  tags: ['terminal'],
  summary: "A payer's terminals, revoked ones included",
  security: managementSecurity,
  params: PayerParams,
  response: ok(listOf(TerminalJson)),
};

/** The payer's terminals, revoked ones included. */
async function listTerminals(
  context: ManagementContext,
  request: TypeboxRequest<typeof listTerminalsSchema>,
) {
  await viewerOf(context, request, request.params.id);
  // Every terminal of a payer fits one page (a payer has a handful), so there is never a next page.
  const data = (await context.services.terminals.list(request.params.id)).map(terminalJson);
  return { object: 'list' as const, data, hasMore: false };
}

/** `POST /v1/terminals/:id/revoke`. */
const revokeTerminalSchema = {
  tags: ['terminal'],
  summary: 'Revoke a terminal at once',
  security: managementSecurity,
  params: IdParams,
  response: ok(TerminalJson),
};

/** Revokes the terminal, by the operator or by its own payer. */
async function revokeTerminal(
  context: ManagementContext,
  request: TypeboxRequest<typeof revokeTerminalSchema>,
) {
  const viewer = await viewerOf(context, request);
  // Only the operator token reaches here without a payer: it acts as the bootstrap operator.
  const by = viewer.payerId === undefined ? tokenActor : 'payer';
  return terminalJson(await context.services.terminals.revoke(request.params.id, by, viewer.payerId));
}

/** `GET /v1/enrollments/:id`. */
const getEnrollmentSchema = {
  tags: ['terminal'],
  summary: "An enrollment's state (open, redeemed, expired, canceled)",
  security: managementSecurity,
  params: IdParams,
  response: ok(EnrollmentJson),
};

/** The enrollment's state. */
async function getEnrollment(
  context: ManagementContext,
  request: TypeboxRequest<typeof getEnrollmentSchema>,
) {
  const viewer = await viewerOf(context, request);
  return enrollmentJson(await context.services.enrollments.get(request.params.id, viewer));
}

/** `GET /v1/enrollments/:id/qr.svg`. */
const svgQrCodeSchema = {
  tags: ['terminal'],
  summary: "QR code of an open enrollment's URI, as SVG",
  security: managementSecurity,
  params: IdParams,
  response: fileOf('image/svg+xml', 'The QR code as an SVG image'),
};

/** The QR code of the enrollment's URI, as SVG. */
async function svgQrCode(
  context: ManagementContext,
  request: TypeboxRequest<typeof svgQrCodeSchema>,
  reply: TypeboxReply<typeof svgQrCodeSchema>,
) {
  const viewer = await viewerOf(context, request);
  const svg = await context.services.enrollments.qrCode(request.params.id, viewer, 'svg');
  return reply.type('image/svg+xml').send(svg);
}

/** `GET /v1/enrollments/:id/qr.png`. */
const pngQrCodeSchema = {
  tags: ['terminal'],
  summary: "QR code of an open enrollment's URI, as PNG",
  security: managementSecurity,
  params: IdParams,
  response: fileOf('image/png', 'The QR code as a PNG image'),
};

/** The QR code of the enrollment's URI, as PNG. */
async function pngQrCode(
  context: ManagementContext,
  request: TypeboxRequest<typeof pngQrCodeSchema>,
  reply: TypeboxReply<typeof pngQrCodeSchema>,
) {
  const viewer = await viewerOf(context, request);
  const png = await context.services.enrollments.qrCode(request.params.id, viewer, 'png');
  return reply.type('image/png').send(png);
}

/** Routes of second terminals and of their management. */
export function terminalRoutes(services: HttpServices): RoutePlugin {
  const operatorTokenHashes = [Buffer.from(services.operatorTokenHash)];
  return (app, deps) => {
    keepRawJsonBodies(app);
    // Streams are long-lived: they end before the server waits for open connections to finish.
    app.addHook('preClose', async () => services.terminalHub.closeAll());
    const context: ManagementContext = { services, operatorTokenHashes, publicUrl: deps.config.publicUrl };
    app.post('/v1/payers/:id/terminals', { schema: issueEnrollmentSchema }, (request, reply) =>
      issueEnrollment(context, request, reply),
    );
    app.get('/v1/payers/:id/terminals', { schema: listTerminalsSchema }, (request) =>
      listTerminals(context, request),
    );
    app.post('/v1/terminals/:id/revoke', { schema: revokeTerminalSchema }, (request) =>
      revokeTerminal(context, request),
    );
    app.get('/v1/enrollments/:id', { schema: getEnrollmentSchema }, (request) =>
      getEnrollment(context, request),
    );
    app.get('/v1/enrollments/:id/qr.svg', { schema: svgQrCodeSchema }, (request, reply) =>
      svgQrCode(context, request, reply),
    );
    app.get('/v1/enrollments/:id/qr.png', { schema: pngQrCodeSchema }, (request, reply) =>
      pngQrCode(context, request, reply),
    );
    registerDeviceRoutes(app, services, streamTimings);
  };
}
