/**
 * The payer's first terminal in the browser: sign in, overview, payments, pay someone and approve,
 * terminals. Handlers stay thin: read the form, call one service, render a view from `src/web/payer/` or
 * redirect. The session lives in the `__Host-cs_payer` cookie and is checked by the same authentication
 * service as the API's bearer sessions (same locks, same timeouts).
 */

import { CountersignError } from '../../domain/errors.js';
import { cookieAttributes, cookieNames } from '../../web/cookies.js';
import { errorPageMessage } from '../../web/messages.js';
import { formField, redirectSeeOther, registerPageContext, sendPage } from '../../web/page-context.js';
import { noticeBanner, payerPage, payerPaths } from '../../web/payer/payer-frame.js';
import { historyBody, homeBody, parseCursor } from '../../web/payer/payment-views.js';
import { signInPage } from '../../web/payer/sign-in-view.js';
import { keepaliveResponses } from '../contract.js';
import type { RoutePlugin } from '../dependencies.js';
import type { HttpServices } from '../services.js';
import type { PayerPageKit } from './page-payer-kit.js';
import { payerPasskeyPages } from './page-payer-passkeys.js';
import { payerPaymentPages } from './page-payer-payments.js';
import { payerTerminalPages } from './page-payer-terminals.js';
import { pageSchema } from './page-schemas.js';

/** The payer's pages. */
export function payerPageRoutes(services: HttpServices): RoutePlugin {
  return async (app) => {
    const clock = services.deps.clock;
    const { csrf } = await registerPageContext(app, {
      area: 'payer',
      secrets: services.deps.secrets,
      sessionBinding: (request) => request.cookies[cookieNames.payerSession] ?? '',
      policy: { connectToSelf: true },
      signIn: {
        // "Your session ended" only to someone who had one.
        url: (request) =>
          request.cookies[cookieNames.payerSession] === undefined
            ? payerPaths.signIn
            : `${payerPaths.signIn}?notice=expired`,
        sessionCookie: cookieNames.payerSession,
      },
    });
    const kit: PayerPageKit = {
      services,
      csrf,
      session: async (request) => {
        const token = request.cookies[cookieNames.payerSession];
        if (token === undefined) throw new CountersignError('authentication_required');
        return services.authentication.authenticateSession(token);
      },
      frame: (request, reply, session, currentPath) => ({
        payerId: session.payerId,
        csrfToken: csrf.token(request, reply),
        idleSecondsLeft: (session.expiresAtMs - clock.nowMs()) / 1000,
        currentPath,
      }),
    };

    app.get(
      payerPaths.signIn,
      { schema: pageSchema({ tag: 'payer pages', summary: 'Sign-in page', query: ['notice'] }) },
      async (request, reply) => {
        const query = request.query as Record<string, unknown>;
        if (request.cookies[cookieNames.payerSession] !== undefined) {
          // A live session goes home; a dead one is deleted first, so that the form's token is bound to no session.
          const live = await kit.session(request).then(
            () => true,
            () => false,
          );
          if (live) return redirectSeeOther(reply, payerPaths.home);
          reply.clearCookie(cookieNames.payerSession, cookieAttributes);
          return redirectSeeOther(reply, `${payerPaths.signIn}?notice=expired`);
        }
        return sendPage(
          reply,
          signInPage({ csrfToken: csrf.token(request, reply), banners: noticeBanner(query['notice']) }),
        );
      },
    );

    app.post(
      payerPaths.signIn,
      {
        schema: pageSchema({
          tag: 'payer pages',
          summary: 'Sign in with payer id and password (sets the session cookie)',
          form: ['payerId', 'password'],
        }),
      },
      async (request, reply) => {
        const payerId = formField(request.body, 'payerId')?.trim() ?? '';
        const password = formField(request.body, 'password') ?? '';
        try {
          if (payerId === '' || password === '') throw new CountersignError('authentication_failed');
          const created = await services.authentication.createSession(payerId, password);
          reply.setCookie(cookieNames.payerSession, created.token, cookieAttributes);
          return redirectSeeOther(reply, payerPaths.home);
        } catch (error) {
          if (!(error instanceof CountersignError)) throw error;
          const page = signInPage({
            csrfToken: csrf.token(request, reply),
            payerId,
            banners: [{ kind: 'error', text: errorPageMessage(error) }],
          });
          return sendPage(reply, page, error.status);
        }
      },
    );

    app.post(
      payerPaths.signOut,
      { schema: pageSchema({ tag: 'payer pages', summary: 'Sign out', form: [] }) },
      async (request, reply) => {
        const token = request.cookies[cookieNames.payerSession];
        if (token !== undefined) await services.authentication.revokeSession(token);
        reply.clearCookie(cookieNames.payerSession, cookieAttributes);
        return redirectSeeOther(reply, `${payerPaths.signIn}?notice=signed_out`);
      },
    );

    // Called by the idle-timeout script's "Stay signed in": answers JSON, never a redirect.
    app.get(
      payerPaths.keepalive,
      {
        schema: {
          ...pageSchema({
            tag: 'payer pages',
            summary: 'Extend the idle session (JSON, for the idle-timeout script)',
          }),
          response: keepaliveResponses,
        },
      },
      async (request, reply) => {
        try {
          const session = await kit.session(request);
          return reply.send({ secondsLeft: Math.floor((session.expiresAtMs - clock.nowMs()) / 1000) });
        } catch (error) {
          if (!(error instanceof CountersignError)) throw error;
          return reply.code(401).send({ secondsLeft: 0 });
        }
      },
    );

    app.get(
      payerPaths.home,
      {
        schema: pageSchema({
          tag: 'payer pages',
          summary: 'Overview: balances and latest payments',
          query: ['notice'],
        }),
      },
      async (request, reply) => {
        const session = await kit.session(request);
        const balances = await services.overview.payerBalances(session.payerId);
        const recent = await services.overview.payments({ payerId: session.payerId }, undefined, 5);
        const query = request.query as Record<string, unknown>;
        const frame = kit.frame(request, reply, session, payerPaths.home);
        return sendPage(
          reply,
          payerPage(frame, 'Overview', homeBody(balances, recent), noticeBanner(query['notice'])),
        );
      },
    );

    app.get(
      payerPaths.payments,
      { schema: pageSchema({ tag: 'payer pages', summary: 'Payment history, paged', query: ['after'] }) },
      async (request, reply) => {
        const session = await kit.session(request);
        const query = request.query as Record<string, unknown>;
        const after = parseCursor(query['after']);
        const page = await services.overview.payments({ payerId: session.payerId }, after, 20);
        const frame = kit.frame(request, reply, session, payerPaths.payments);
        return sendPage(reply, payerPage(frame, 'Payments', historyBody(page, after === undefined)));
      },
    );

    payerPaymentPages(app, kit);
    payerTerminalPages(app, kit);
    payerPasskeyPages(app, kit);
  };
}
