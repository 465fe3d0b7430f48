/**
 * The payer's first terminal in the browser: sign in, overview, payments, pay someone and approve,
 * terminals. Handlers stay thin: read the form, call one service, render a view from `src/web/payer/` or
 * redirect. The session lives in the `__Host-cs_payer` cookie and is checked by the same authentication
 * service as the API's bearer sessions (same locks, same timeouts).
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { cookieAttributes, cookieNames } from '../../web/cookies.js';
import { errorPageMessage } from '../../web/messages.js';
import { formField, redirectSeeOther, registerPageContext, sendPage } from '../../web/page-context.js';
import { noticeBanner, payerPage, payerPaths } from '../../web/payer/payer-frame.js';
import { historyBody, homeBody, parseCursor } from '../../web/payer/payment-views.js';
import { signInPage } from '../../web/payer/sign-in-view.js';
import { keepaliveResponses } from '../contract.js';
import type { FastifyTypebox, RoutePlugin } from '../dependencies.js';
import type { HttpServices } from '../services.js';
import type { PayerPageKit } from './page-payer-kit.js';
import { payerPasskeyPages } from './page-payer-passkeys.js';
import { payerPaymentPages } from './page-payer-payments.js';
import { payerTerminalPages } from './page-payer-terminals.js';
import { pageSchema, registerPageRoutes } from './page-schemas.js';

/** Registers the payer's page context (cookies, CSRF, the sign-in redirect) and returns what handlers share. */
async function registerPayerContext(app: FastifyTypebox, services: HttpServices): Promise<PayerPageKit> {
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
  return {
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
}

/** GET the sign-in page; a browser with a live session goes home instead. */
async function showSignIn(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
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
    signInPage({ csrfToken: kit.csrf.token(request, reply), banners: noticeBanner(query['notice']) }),
  );
}

/** POST the sign-in form: the session cookie and home, or the form again with why not. */
async function signIn(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const payerId = formField(request.body, 'payerId')?.trim() ?? '';
  const password = formField(request.body, 'password') ?? '';
  try {
    if (payerId === '' || password === '') throw new CountersignError('authentication_failed');
    const created = await kit.services.authentication.createSession(payerId, password);
    reply.setCookie(cookieNames.payerSession, created.token, cookieAttributes);
    return redirectSeeOther(reply, payerPaths.home);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    const page = signInPage({
      csrfToken: kit.csrf.token(request, reply),
      payerId,
      banners: [{ kind: 'error', text: errorPageMessage(error) }],
    });
    return sendPage(reply, page, error.status);
  }
}

/** POST sign-out: ends the session on the server and deletes the cookie. */
async function signOut(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const token = request.cookies[cookieNames.payerSession];
  if (token !== undefined) await kit.services.authentication.revokeSession(token);
  reply.clearCookie(cookieNames.payerSession, cookieAttributes);
  return redirectSeeOther(reply, `${payerPaths.signIn}?notice=signed_out`);
}

/**
 * GET keepalive: the seconds the session has left (JSON), 401 with none left. The body is returned, not
 * sent, so that its type is checked against the route's response schema.
 */
async function keepalive(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<{ secondsLeft: number }> {
  try {
    const session = await kit.session(request);
    const clock = kit.services.deps.clock;
    return { secondsLeft: Math.floor((session.expiresAtMs - clock.nowMs()) / 1000) };
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    reply.code(401);
    return { secondsLeft: 0 };
  }
}

/** GET the overview: balances and the latest payments. */
async function showHome(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { overview } = kit.services;
  const session = await kit.session(request);
  const balances = await overview.payerBalances(session.payerId);
  const recent = await overview.payments({ payerId: session.payerId }, undefined, 5);
  const query = request.query as Record<string, unknown>;
  const frame = kit.frame(request, reply, session, payerPaths.home);
  return sendPage(
    reply,
    payerPage(frame, 'Overview', homeBody(balances, recent), noticeBanner(query['notice'])),
  );
}

/** GET one page of the payment history. */
async function showHistory(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request);
  const query = request.query as Record<string, unknown>;
  const after = parseCursor(query['after']);
  const page = await kit.services.overview.payments(
    { payerId: session.payerId },
    after,
    limits.payerPaymentsPageRowsMax,
  );
  const frame = kit.frame(request, reply, session, payerPaths.payments);
  return sendPage(reply, payerPage(frame, 'Payments', historyBody(page, after === undefined)));
}

/** Registers sign-in, sign-out and the idle session's keepalive. */
function payerSessionPages(app: FastifyTypebox, kit: PayerPageKit): void {
  registerPageRoutes(app, kit, 'payer pages', [
    {
      method: 'get',
      path: payerPaths.signIn,
      summary: 'Sign-in page',
      query: ['notice'],
      handler: showSignIn,
    },
    {
      method: 'post',
      path: payerPaths.signIn,
      summary: 'Sign in with payer id and password (sets the session cookie)',
      form: ['payerId', 'password'],
      handler: signIn,
    },
    { method: 'post', path: payerPaths.signOut, summary: 'Sign out', form: [], handler: signOut },
  ]);

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
    (request, reply) => keepalive(kit, request, reply),
  );
}

/** The payer's pages. */
export function payerPageRoutes(services: HttpServices): RoutePlugin {
  return async (app) => {
    const kit = await registerPayerContext(app, services);
    payerSessionPages(app, kit);

    registerPageRoutes(app, kit, 'payer pages', [
      {
        method: 'get',
        path: payerPaths.home,
        summary: 'Overview: balances and latest payments',
        query: ['notice'],
        handler: showHome,
      },
      {
        method: 'get',
        path: payerPaths.payments,
        summary: 'Payment history, paged',
        query: ['after'],
        handler: showHistory,
      },
    ]);

    payerPaymentPages(app, kit);
    payerTerminalPages(app, kit);
    payerPasskeyPages(app, kit);
  };
}
