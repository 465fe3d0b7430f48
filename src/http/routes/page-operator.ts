/**
 * The operator console at `/operator`: sign-in with the operator token, the dashboard, the audit log and
 * the delivery outbox here; payers and payees in `page-operator-parties.ts`; the ledger in
 * `page-operator-ledger.ts`. The session is an HMAC-signed cookie (`web/operator/operator-session.ts`);
 * the operator token itself never reaches the browser again after sign-in.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { cookieAttributes, cookieNames } from '../../web/cookies.js';
import type { CsrfGuard } from '../../web/csrf.js';
import { pathWithQuery } from '../../web/html.js';
import { auditBody, outboxBody } from '../../web/operator/audit-views.js';
import { dashboardBody } from '../../web/operator/dashboard-view.js';
import {
  type OperatorFrame,
  operatorNotice,
  operatorPage,
  operatorPaths,
} from '../../web/operator/operator-frame.js';
import { type OperatorSession, OperatorSessions } from '../../web/operator/operator-session.js';
import { operatorSignInPage } from '../../web/operator/sign-in-view.js';
import { formField, redirectSeeOther, registerPageContext, sendPage } from '../../web/page-context.js';
import { cursorParam, parseCursor } from '../../web/payer/payment-views.js';
import type { RoutePlugin } from '../dependencies.js';
import { hashOperatorToken } from '../operator-auth.js';
import type { HttpServices } from '../services.js';
import { operatorLedgerPages } from './page-operator-ledger.js';
import { operatorPartyPages } from './page-operator-parties.js';
import { pageSchema } from './page-schemas.js';

/** What the console's handlers share. */
export interface OperatorPageKit {
  readonly services: HttpServices;
  readonly csrf: CsrfGuard;
  /** The console session, refreshed; throws `authentication_required` (→ sign-in page) without one. */
  session(request: FastifyRequest, reply: FastifyReply): OperatorSession;
  frame(
    request: FastifyRequest,
    reply: FastifyReply,
    session: OperatorSession,
    currentPath: string,
  ): OperatorFrame;
}

/** Entries of the audit log on one page. */
const auditPageSize = 50;

/** The query object of a request, for reading optional filters. */
export function queryOf(request: FastifyRequest): Record<string, unknown> {
  return (request.query ?? {}) as Record<string, unknown>;
}

/** The console's pages. */
export function operatorPageRoutes(services: HttpServices): RoutePlugin {
  return async (app) => {
    const clock = services.deps.clock;
    const expectedTokenHash = Buffer.from(services.operatorTokenHash);
    const sessions = new OperatorSessions(services.deps.secrets, expectedTokenHash.toString('hex'));
    const { csrf } = await registerPageContext(app, {
      area: 'operator',
      secrets: services.deps.secrets,
      sessionBinding: (request) => sessions.boundId(request.cookies[cookieNames.operatorSession]) ?? '',
      policy: { connectToSelf: true },
      signIn: {
        url: (request) =>
          request.cookies[cookieNames.operatorSession] === undefined
            ? operatorPaths.signIn
            : `${operatorPaths.signIn}?notice=expired`,
        sessionCookie: cookieNames.operatorSession,
      },
    });
    const kit: OperatorPageKit = {
      services,
      csrf,
      session: (request, reply) => {
        const nowMs = clock.nowMs();
        const session = sessions.open(request.cookies[cookieNames.operatorSession], nowMs);
        if (session === undefined) throw new CountersignError('authentication_required');
        reply.setCookie(cookieNames.operatorSession, sessions.refresh(session, nowMs), cookieAttributes);
        return session;
      },
      frame: (request, reply, session, currentPath) => ({
        csrfToken: csrf.token(request, reply),
        idleSecondsLeft: sessions.secondsLeft(session, clock.nowMs()),
        currentPath,
      }),
    };

    app.get(
      operatorPaths.signIn,
      { schema: pageSchema({ tag: 'operator pages', summary: 'Operator sign-in page', query: ['notice'] }) },
      async (request, reply) => {
        const existing = request.cookies[cookieNames.operatorSession];
        if (existing !== undefined) {
          // A live session goes to the console; a dead one is deleted first, so the form's token is bound to none.
          if (sessions.open(existing, clock.nowMs()) !== undefined)
            return redirectSeeOther(reply, operatorPaths.dashboard);
          reply.clearCookie(cookieNames.operatorSession, cookieAttributes);
          return redirectSeeOther(reply, `${operatorPaths.signIn}?notice=expired`);
        }
        return sendPage(
          reply,
          operatorSignInPage(csrf.token(request, reply), operatorNotice(queryOf(request)['notice'])),
        );
      },
    );

    app.post(
      operatorPaths.signIn,
      {
        schema: pageSchema({
          tag: 'operator pages',
          summary: 'Sign in with the operator token (sets the console session cookie)',
          form: ['token'],
        }),
      },
      async (request, reply) => {
        const token = formField(request.body, 'token') ?? '';
        // The digest of any input is compared, so a wrong token of any length costs the same time.
        const matches = timingSafeEqual(hashOperatorToken(token), expectedTokenHash);
        if (token === '' || !matches) {
          const banners = [{ kind: 'error' as const, text: 'The operator token is not correct.' }];
          return sendPage(reply, operatorSignInPage(csrf.token(request, reply), banners), 401);
        }
        reply.setCookie(cookieNames.operatorSession, sessions.issue(clock.nowMs()), cookieAttributes);
        return redirectSeeOther(reply, operatorPaths.dashboard);
      },
    );

    app.post(
      operatorPaths.signOut,
      { schema: pageSchema({ tag: 'operator pages', summary: 'Sign out of the console', form: [] }) },
      async (_request, reply) => {
        reply.clearCookie(cookieNames.operatorSession, cookieAttributes);
        return redirectSeeOther(reply, `${operatorPaths.signIn}?notice=signed_out`);
      },
    );

    app.get(
      operatorPaths.keepalive,
      {
        schema: pageSchema({
          tag: 'operator pages',
          summary: 'Extend the console session (JSON, for the idle-timeout script)',
        }),
      },
      async (request, reply) => {
        const session = sessions.open(request.cookies[cookieNames.operatorSession], clock.nowMs());
        if (session === undefined) return reply.code(401).send({ secondsLeft: 0 });
        reply.setCookie(
          cookieNames.operatorSession,
          sessions.refresh(session, clock.nowMs()),
          cookieAttributes,
        );
        return reply.send({ secondsLeft: sessions.secondsLeft(session, clock.nowMs()) });
      },
    );

    app.get(
      operatorPaths.dashboard,
      {
        schema: pageSchema({
          tag: 'operator pages',
          summary: 'Dashboard: payments per minute, approval rates, open holds, locked payers',
          query: ['notice'],
        }),
      },
      async (request, reply) => {
        const session = kit.session(request, reply);
        const dashboard = await services.overview.dashboard();
        const frame = kit.frame(request, reply, session, operatorPaths.dashboard);
        return sendPage(
          reply,
          operatorPage(
            frame,
            'Dashboard',
            dashboardBody(dashboard),
            operatorNotice(queryOf(request)['notice']),
          ),
        );
      },
    );

    app.get(
      operatorPaths.audit,
      {
        schema: pageSchema({
          tag: 'operator pages',
          summary: 'Audit log, newest first, with the hash-chain status',
          query: ['before'],
        }),
      },
      async (request, reply) => {
        const session = kit.session(request, reply);
        const raw = queryOf(request)['before'];
        const before = typeof raw === 'string' && /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : undefined;
        const entries = await services.audit.list({
          limit: auditPageSize,
          ...(before === undefined ? {} : { beforePosition: before }),
        });
        // The chain is verified when the newest page is shown: it reads the whole log, page by page.
        const verification = before === undefined ? await services.audit.verify() : undefined;
        const last = entries[entries.length - 1];
        const nextHref =
          entries.length === auditPageSize && last !== undefined && last.position > 1
            ? pathWithQuery(operatorPaths.audit, { before: last.position })
            : undefined;
        const frame = kit.frame(request, reply, session, operatorPaths.audit);
        return sendPage(reply, operatorPage(frame, 'Audit log', auditBody(entries, verification, nextHref)));
      },
    );

    app.get(
      operatorPaths.outbox,
      {
        schema: pageSchema({
          tag: 'operator pages',
          summary: 'Delivery outbox (never a payload)',
          query: ['after'],
        }),
      },
      async (request, reply) => {
        const session = kit.session(request, reply);
        const page = await services.overview.deliveries(parseCursor(queryOf(request)['after']), 50);
        const nextHref =
          page.next === undefined
            ? undefined
            : pathWithQuery(operatorPaths.outbox, { after: cursorParam(page.next) });
        const frame = kit.frame(request, reply, session, operatorPaths.outbox);
        return sendPage(reply, operatorPage(frame, 'Outbox', outboxBody(page.items, nextHref)));
      },
    );

    operatorPartyPages(app, kit);
    operatorLedgerPages(app, kit);
  };
}
