/**
 * The operator console at `/operator`: sign-in with name, password and TOTP code, the set-up of a new
 * account, the dashboard, the audit log, the outbox and the operators here; payers and payees in
 * `page-operator-parties.ts`; the ledger in `page-operator-ledger.ts`. The session is a database row
 * (`services/operators/operator-service.ts`) named by a random token in the cookie: signing out, the idle timeout,
 * the lifetime and an admin end it on the server, so an old cookie opens nothing.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { mayAct } from '../../domain/operator.js';
import type { OperatorPrincipal } from '../../services/operators/operator-service.js';
import { cookieAttributes, cookieNames } from '../../web/cookies.js';
import { nextPage, pathWithQuery, trustedHtml } from '../../web/html.js';
import type { Banner } from '../../web/layout.js';
import { formErrorMessage } from '../../web/messages.js';
import { auditBody, outboxBody } from '../../web/operator/audit-views.js';
import { dashboardBody } from '../../web/operator/dashboard-view.js';
import { operatorNotice, operatorPage, operatorPaths } from '../../web/operator/operator-frame.js';
import { type NewOperator, operatorsBody } from '../../web/operator/operators-view.js';
import {
  operatorSetupKeyPage,
  operatorSetupStartPage,
  operatorSignInPage,
} from '../../web/operator/sign-in-view.js';
import { formField, redirectSeeOther, registerPageContext, sendPage } from '../../web/page-context.js';
import { cursorParam, parseCursor } from '../../web/payer/payment-views.js';
import { keepaliveResponses } from '../contract.js';
import type { FastifyTypebox, RoutePlugin } from '../dependencies.js';
import type { HttpServices } from '../services.js';
import { type OperatorPageKit, queryOf } from './page-operator-kit.js';
import { operatorLedgerPages } from './page-operator-ledger.js';
import { operatorPartyPages } from './page-operator-parties.js';
import { pageSchema, registerPageRoutes } from './page-schemas.js';

/** The banner of a refused sign-in or set-up, with `Retry-After` on a lock. */
function refusalBanner(reply: FastifyReply, error: CountersignError): Banner[] {
  const retryAfter = error.details?.['retryAfterSeconds'];
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  return [{ kind: 'error', text: formErrorMessage(error) }];
}

/** Registers the console's page context (cookies, CSRF, the sign-in redirect) and returns what handlers share. */
async function registerOperatorContext(
  app: FastifyTypebox,
  services: HttpServices,
): Promise<OperatorPageKit> {
  const { operators } = services;
  const { csrf } = await registerPageContext(app, {
    area: 'operator',
    secrets: services.deps.secrets,
    // Forms are bound to the session's token (by a keyed hash, never the token itself): a form of one
    // session does not post in another.
    sessionBinding: (request) => {
      const token = request.cookies[cookieNames.operatorSession];
      return token === undefined ? '' : services.deps.secrets.keyedHash('operator_csrf_binding', token);
    },
    policy: { connectToSelf: true },
    signIn: {
      url: (request) =>
        request.cookies[cookieNames.operatorSession] === undefined
          ? operatorPaths.signIn
          : `${operatorPaths.signIn}?notice=expired`,
      sessionCookie: cookieNames.operatorSession,
    },
  });
  return {
    services,
    csrf,
    session: (request) => operators.authenticate(request.cookies[cookieNames.operatorSession]),
    frame: (request, reply, session, currentPath) => ({
      csrfToken: csrf.token(request, reply),
      idleSecondsLeft: operators.secondsLeft(session),
      currentPath,
      operatorName: session.name,
      role: session.actor.role,
    }),
  };
}

/** GET the sign-in page; a browser with a live session goes to the dashboard instead. */
async function showSignIn(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const existing = request.cookies[cookieNames.operatorSession];
  if (existing !== undefined) {
    // A live session goes to the console; a dead one is deleted first, so the form's token is bound to none.
    const live = await kit.services.operators.authenticate(existing).then(
      () => true,
      () => false,
    );
    if (live) return redirectSeeOther(reply, operatorPaths.dashboard);
    reply.clearCookie(cookieNames.operatorSession, cookieAttributes);
    return redirectSeeOther(reply, `${operatorPaths.signIn}?notice=expired`);
  }
  return sendPage(
    reply,
    operatorSignInPage(kit.csrf.token(request, reply), operatorNotice(queryOf(request)['notice'])),
  );
}

/** POST the sign-in form: the session cookie and the dashboard, or the form again with why not. */
async function signIn(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const name = formField(request.body, 'name')?.trim() ?? '';
  try {
    const token = await kit.services.operators.signIn(
      name,
      formField(request.body, 'password') ?? '',
      formField(request.body, 'code')?.trim() ?? '',
    );
    reply.setCookie(cookieNames.operatorSession, token, cookieAttributes);
    return redirectSeeOther(reply, operatorPaths.dashboard);
  } catch (error) {
    if (!(error instanceof CountersignError) || error.status >= 500) throw error;
    const page = operatorSignInPage(kit.csrf.token(request, reply), refusalBanner(reply, error), name);
    return sendPage(reply, page, error.status);
  }
}

/** POST sign-out: ends the session on the server and deletes the cookie. */
async function signOut(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  await kit.services.operators.signOut(request.cookies[cookieNames.operatorSession]);
  reply.clearCookie(cookieNames.operatorSession, cookieAttributes);
  return redirectSeeOther(reply, `${operatorPaths.signIn}?notice=signed_out`);
}

/** Renders set-up step 2: the TOTP key to enroll, as text and as a QR code. */
async function sendSetupKeyPage(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  setupCode: string,
  banners: Banner[],
  status = 200,
): Promise<FastifyReply> {
  const enrollment = await kit.services.operators.beginSetup(name, setupCode);
  // Drawn from the platform's own URI (base32, a fixed scheme and issuer), by the QR library: trusted markup.
  const qrSvg = trustedHtml(
    await QRCode.toString(enrollment.uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
  );
  const page = operatorSetupKeyPage(kit.csrf.token(request, reply), banners, {
    name: enrollment.operatorName,
    setupCode,
    keyBase32: enrollment.keyBase32,
    qrSvg,
  });
  return sendPage(reply, page, status);
}

/** GET set-up step 1: the name and set-up code form. */
async function showSetup(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return sendPage(reply, operatorSetupStartPage(kit.csrf.token(request, reply), []));
}

/** POST set-up step 1: the TOTP key for a right set-up code, or step 1 again with why not. */
async function beginSetup(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const name = formField(request.body, 'name')?.trim() ?? '';
  const setupCode = formField(request.body, 'setupCode')?.trim() ?? '';
  try {
    return await sendSetupKeyPage(kit, request, reply, name, setupCode, []);
  } catch (error) {
    if (!(error instanceof CountersignError) || error.status >= 500) throw error;
    const page = operatorSetupStartPage(kit.csrf.token(request, reply), refusalBanner(reply, error), name);
    return sendPage(reply, page, error.status);
  }
}

/** POST set-up step 2: password and confirmed TOTP key, then sign-in; or the key again with why not. */
async function completeSetup(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const name = formField(request.body, 'name')?.trim() ?? '';
  const setupCode = formField(request.body, 'setupCode')?.trim() ?? '';
  try {
    await kit.services.operators.completeSetup(
      name,
      setupCode,
      formField(request.body, 'password') ?? '',
      formField(request.body, 'code')?.trim() ?? '',
    );
    return redirectSeeOther(reply, `${operatorPaths.signIn}?notice=set_up`);
  } catch (error) {
    if (!(error instanceof CountersignError) || error.status >= 500) throw error;
    // A wrong code or password: show the key again, so the operator can retry with the app's next code.
    const banners = refusalBanner(reply, error);
    return sendSetupKeyPage(kit, request, reply, name, setupCode, banners, error.status).catch(
      (again: unknown) => {
        if (!(again instanceof CountersignError)) throw again;
        const page = operatorSetupStartPage(kit.csrf.token(request, reply), banners, name);
        return sendPage(reply, page, error.status);
      },
    );
  }
}

/**
 * GET keepalive: the seconds the session has left (JSON), 401 with none left. The body is returned, not
 * sent, so that its type is checked against the route's response schema.
 */
async function keepalive(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<{ secondsLeft: number }> {
  const { operators } = kit.services;
  const session = await operators
    .authenticate(request.cookies[cookieNames.operatorSession])
    .catch(() => undefined);
  if (session === undefined) {
    reply.code(401);
    return { secondsLeft: 0 };
  }
  return { secondsLeft: operators.secondsLeft(session) };
}

/** Renders the operators page: the list, and for admins the "create" form or the account just created. */
async function renderOperators(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: OperatorPrincipal,
  created?: NewOperator,
  error?: CountersignError,
): Promise<FastifyReply> {
  const list = await kit.services.operators.list(session.actor);
  const frame = kit.frame(request, reply, session, operatorPaths.operators);
  const admin = mayAct(session.actor.role, 'manage_operator');
  const body = operatorsBody(list, admin, frame.csrfToken, created, error && formErrorMessage(error));
  return sendPage(
    reply,
    operatorPage(frame, 'Operators', body, operatorNotice(queryOf(request)['notice'])),
    error?.status ?? (created === undefined ? 200 : 201),
  );
}

/** GET the operators page. */
async function showOperators(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return renderOperators(kit, request, reply, await kit.session(request, reply));
}

/** POST "create an operator": the operators page with the one-time set-up code, or with why not. */
async function createOperator(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  try {
    const created = await kit.services.operators.create(
      {
        name: formField(request.body, 'name')?.trim() ?? '',
        role: formField(request.body, 'role') ?? '',
      },
      session.actor,
    );
    return await renderOperators(kit, request, reply, session, created);
  } catch (error) {
    if (!(error instanceof CountersignError) || error.status >= 500) throw error;
    return renderOperators(kit, request, reply, session, undefined, error);
  }
}

/** POST the end of every session of an operator; back to the operators page. */
async function endSessions(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const name = (request.params as { name?: unknown }).name;
  if (typeof name !== 'string') throw new CountersignError('operator_not_found');
  await kit.services.operators.endSessions(name, session.actor);
  return redirectSeeOther(reply, `${operatorPaths.operators}?notice=sessions_ended`);
}

/** GET the dashboard. */
async function showDashboard(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const dashboard = await kit.services.overview.dashboard();
  const frame = kit.frame(request, reply, session, operatorPaths.dashboard);
  return sendPage(
    reply,
    operatorPage(frame, 'Dashboard', dashboardBody(dashboard), operatorNotice(queryOf(request)['notice'])),
  );
}

/** GET one page of the audit log, newest first; the newest page with the hash chain's status. */
async function showAudit(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { audit } = kit.services;
  const session = await kit.session(request, reply);
  const raw = queryOf(request)['before'];
  const before = typeof raw === 'string' && /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : undefined;
  const entries = await audit.list({
    limit: limits.operatorPageRowsMax,
    ...(before === undefined ? {} : { beforePosition: before }),
  });
  // The chain is verified when the newest page is shown: it reads the whole log, page by page.
  const verification = before === undefined ? await audit.verify() : undefined;
  const last = entries[entries.length - 1];
  const nextHref =
    entries.length === limits.operatorPageRowsMax && last !== undefined && last.position > 1
      ? pathWithQuery(operatorPaths.audit, { before: last.position })
      : undefined;
  const frame = kit.frame(request, reply, session, operatorPaths.audit);
  return sendPage(reply, operatorPage(frame, 'Audit log', auditBody(entries, verification, nextHref)));
}

/** GET one page of the delivery outbox. */
async function showOutbox(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const page = await kit.services.overview.deliveries(
    parseCursor(queryOf(request)['after']),
    limits.operatorPageRowsMax,
  );
  const nextHref = nextPage(operatorPaths.outbox, {}, page.next && cursorParam(page.next));
  const frame = kit.frame(request, reply, session, operatorPaths.outbox);
  return sendPage(reply, operatorPage(frame, 'Outbox', outboxBody(page.items, nextHref)));
}

/** Registers sign-in and sign-out. */
function signInPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.signIn,
      summary: 'Operator sign-in page',
      query: ['notice'],
      handler: showSignIn,
    },
    {
      method: 'post',
      path: operatorPaths.signIn,
      summary: 'Sign in with name, password and TOTP code (sets the console session cookie)',
      form: ['name', 'password', 'code'],
      handler: signIn,
    },
    {
      method: 'post',
      path: operatorPaths.signOut,
      summary: 'Sign out: ends the session on the server',
      form: [],
      handler: signOut,
    },
  ]);
}

/** Registers the three steps that set up a new operator account. */
function setupPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.setup,
      summary: 'Set up a new operator account: step 1',
      handler: showSetup,
    },
    {
      method: 'post',
      path: operatorPaths.setup,
      summary: 'Set-up step 2: the TOTP key to enroll, for a right set-up code',
      form: ['name', 'setupCode'],
      handler: beginSetup,
    },
    {
      method: 'post',
      path: operatorPaths.setupComplete,
      summary: 'Set-up step 3: choose the password and confirm the TOTP key with a code',
      form: ['name', 'setupCode', 'password', 'code'],
      handler: completeSetup,
    },
  ]);
}

/** Registers the operators page: the list, creating an operator, ending an operator's sessions. */
function operatorsPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.operators,
      summary: 'Operators, their roles and open sessions',
      query: ['notice'],
      handler: showOperators,
    },
    {
      method: 'post',
      path: operatorPaths.operators,
      summary: 'Create an operator (admins): shows the one-time set-up code',
      form: ['name', 'role'],
      handler: createOperator,
    },
    {
      method: 'post',
      path: '/operator/operators/:name/end-sessions',
      summary: 'End every session of an operator (admins)',
      params: ['name'],
      form: [],
      handler: endSessions,
    },
  ]);
}

/** Registers the dashboard, the audit log and the outbox. */
function overviewPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.dashboard,
      summary: 'Dashboard: payments per minute, approval rates, open holds, locked payers',
      query: ['notice'],
      handler: showDashboard,
    },
    {
      method: 'get',
      path: operatorPaths.audit,
      summary: 'Audit log, newest first, with the hash-chain status',
      query: ['before'],
      handler: showAudit,
    },
    {
      method: 'get',
      path: operatorPaths.outbox,
      summary: 'Delivery outbox (never a payload)',
      query: ['after'],
      handler: showOutbox,
    },
  ]);
}

/** The console's pages. */
export function operatorPageRoutes(services: HttpServices): RoutePlugin {
  return async (app) => {
    const kit = await registerOperatorContext(app, services);
    signInPages(app, kit);
    setupPages(app, kit);
    app.get(
      operatorPaths.keepalive,
      {
        schema: {
          ...pageSchema({
            tag: 'operator pages',
            summary: 'Extend the console session (JSON, for the idle-timeout script)',
          }),
          response: keepaliveResponses,
        },
      },
      (request, reply) => keepalive(kit, request, reply),
    );
    operatorsPages(app, kit);
    overviewPages(app, kit);
    operatorPartyPages(app, kit);
    operatorLedgerPages(app, kit);
  };
}
