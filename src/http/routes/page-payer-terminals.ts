/**
 * The payer's terminals page: list, enroll (a one-time QR code), revoke. Enrolling and revoking are the
 * terminal services' use cases; this page only calls them. The enrollment's QR code is the answer to the
 * "enroll" form itself and is never shown again: it carries the new terminal's key.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { type SafeHtml, trustedHtml } from '../../web/html.js';
import { pageMessage } from '../../web/messages.js';
import { formField, redirectSeeOther, sendPage } from '../../web/page-context.js';
import { noticeBanner, payerPage, payerPaths } from '../../web/payer/payer-frame.js';
import { type TerminalsView, terminalsBody } from '../../web/payer/terminal-views.js';
import type { FastifyTypebox } from '../dependencies.js';
import type { PayerPageKit, PayerSession } from './page-payer-kit.js';
import { registerPageRoutes } from './page-schemas.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the terminals page shows besides the list: the enrollment just issued, or why it failed. */
type TerminalsExtra = Pick<TerminalsView, 'enrollment' | 'error'>;

/** Renders the terminals page of the signed-in payer. */
async function renderTerminals(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PayerSession,
  extra: TerminalsExtra = {},
  status = 200,
): Promise<FastifyReply> {
  const terminals = await kit.services.terminals.list(session.payerId);
  const frame = kit.frame(request, reply, session, payerPaths.terminals);
  const query = request.query as Record<string, unknown>;
  const body = terminalsBody({
    terminals,
    csrfToken: frame.csrfToken,
    canRevoke: true,
    enroll: { kind: 'form', action: payerPaths.terminals },
    ...extra,
  });
  return sendPage(reply, payerPage(frame, 'Terminals', body, noticeBanner(query['notice'])), status);
}

/** GET the terminals page. */
async function showTerminals(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return renderTerminals(kit, request, reply, await kit.session(request));
}

/** POST the "enroll" form: the terminals page with the new terminal's one-time QR code. */
async function enrollTerminal(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request);
  const { enrollments } = kit.services;
  try {
    const label = formField(request.body, 'label');
    const issued = await enrollments.issue({
      payerId: session.payerId,
      ...(label === undefined ? {} : { label }),
      by: 'payer',
    });
    const svg = await enrollments.qrCode(issued.id, { payerId: session.payerId }, 'svg');
    // The QR library's SVG of the platform's own enrollment URI: markup from trusted code.
    const qrSvg: SafeHtml = trustedHtml(String(svg));
    const enrollment = { qrSvg, expiresAtMs: issued.expiresAtMs };
    return renderTerminals(kit, request, reply, session, { enrollment }, 201);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    const message = error.code === 'invalid_request' ? error.message : pageMessage(error.code);
    return renderTerminals(kit, request, reply, session, { error: message }, error.status);
  }
}

/** POST a terminal's revocation; back to the terminals page. */
async function revokeTerminal(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request);
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || !uuidPattern.test(id)) throw new CountersignError('terminal_not_found');
  await kit.services.terminals.revoke(id, 'payer', session.payerId);
  return redirectSeeOther(reply, `${payerPaths.terminals}?notice=revoked`);
}

/** Registers the terminal pages in the payer's context. */
export function payerTerminalPages(app: FastifyTypebox, kit: PayerPageKit): void {
  registerPageRoutes(app, kit, 'payer pages', [
    {
      method: 'get',
      path: payerPaths.terminals,
      summary: "The payer's terminals",
      query: ['notice'],
      handler: showTerminals,
    },
    {
      method: 'post',
      path: payerPaths.terminals,
      summary: 'Enroll a new terminal: show its one-time QR code',
      form: ['label'],
      handler: enrollTerminal,
    },
    {
      method: 'post',
      path: '/terminals/:id/revoke',
      summary: 'Revoke a terminal',
      params: ['id'],
      form: [],
      handler: revokeTerminal,
    },
  ]);
}
