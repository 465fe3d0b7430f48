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
import { pageSchema } from './page-schemas.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Registers the terminal pages in the payer's context. */
export function payerTerminalPages(app: FastifyTypebox, kit: PayerPageKit): void {
  const { services } = kit;

  const render = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: PayerSession,
    extra: Pick<TerminalsView, 'enrollment' | 'error'> = {},
    status = 200,
  ) => {
    const terminals = await services.terminals.list(session.payerId);
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
  };

  app.get(
    payerPaths.terminals,
    { schema: pageSchema({ tag: 'payer pages', summary: "The payer's terminals", query: ['notice'] }) },
    async (request, reply) => render(request, reply, await kit.session(request)),
  );

  app.post(
    payerPaths.terminals,
    {
      schema: pageSchema({
        tag: 'payer pages',
        summary: 'Enroll a new terminal: show its one-time QR code',
        form: ['label'],
      }),
    },
    async (request, reply) => {
      const session = await kit.session(request);
      try {
        const label = formField(request.body, 'label');
        const issued = await services.enrollments.issue({
          payerId: session.payerId,
          ...(label === undefined ? {} : { label }),
          by: 'payer',
        });
        const svg = await services.enrollments.qrCode(issued.id, { payerId: session.payerId }, 'svg');
        // The QR library's SVG of the platform's own enrollment URI: markup from trusted code.
        const qrSvg: SafeHtml = trustedHtml(String(svg));
        return render(
          request,
          reply,
          session,
          { enrollment: { qrSvg, expiresAtMs: issued.expiresAtMs } },
          201,
        );
      } catch (error) {
        if (!(error instanceof CountersignError)) throw error;
        const message = error.code === 'invalid_request' ? error.message : pageMessage(error.code);
        return render(request, reply, session, { error: message }, error.status);
      }
    },
  );

  app.post(
    '/terminals/:id/revoke',
    { schema: pageSchema({ tag: 'payer pages', summary: 'Revoke a terminal', params: ['id'], form: [] }) },
    async (request, reply) => {
      const session = await kit.session(request);
      const id = (request.params as { id?: unknown }).id;
      if (typeof id !== 'string' || !uuidPattern.test(id)) throw new CountersignError('terminal_not_found');
      await services.terminals.revoke(id, 'payer', session.payerId);
      return redirectSeeOther(reply, `${payerPaths.terminals}?notice=revoked`);
    },
  );
}
