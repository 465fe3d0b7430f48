/**
 * The console's payers and payees: search, create, detail, unlock, deposit. Each POST calls one service
 * and redirects (303), except creating a payer, whose answer shows the new terminal's key once.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { isCurrency } from '../../domain/money.js';
import { isPartyId } from '../../domain/payer.js';
import type { OperatorPrincipal } from '../../services/operators/operator-service.js';
import type { CreatedPayer, FirstTerminal } from '../../services/parties/party-service.js';
import { parseMajorUnits } from '../../web/amount.js';
import { nextPage, type SafeHtml, trustedHtml } from '../../web/html.js';
import { formErrorMessage } from '../../web/messages.js';
import { operatorNotice, operatorPage, operatorPaths } from '../../web/operator/operator-frame.js';
import {
  type FormState,
  payeeBody,
  payeesBody,
  payerBody,
  payerCreatedBody,
  payersBody,
} from '../../web/operator/party-views.js';
import { formField, redirectSeeOther, sendPage } from '../../web/page-context.js';
import { cursorParam, parseCursor } from '../../web/payer/payment-views.js';
import type { FastifyTypebox } from '../dependencies.js';
import { type OperatorPageKit, queryOf } from './page-operator-kit.js';
import { newFormKey } from './page-payer-kit.js';
import { registerPageRoutes } from './page-schemas.js';

/**
 * A search term from the query: the start of a party's id, or of a payee's name. At most as long as a
 * party id (`limits.partyIdLengthMax`), else none: a name is found by its first characters, and a prefix
 * that long already names one payee.
 */
function searchTerm(request: FastifyRequest): string {
  const raw = queryOf(request)['q'];
  return typeof raw === 'string' && raw.length <= limits.partyIdLengthMax ? raw.trim() : '';
}

/** An id-keyset cursor from the query (`after` = the last id shown). */
function afterId(request: FastifyRequest): string | undefined {
  const raw = queryOf(request)['after'];
  return typeof raw === 'string' && isPartyId(raw) ? raw : undefined;
}

/** The party id of a path; `not found` for anything that cannot be one. */
function partyIdOf(request: FastifyRequest, notFound: 'payer_not_found' | 'payee_not_found'): string {
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || !isPartyId(id)) throw new CountersignError(notFound);
  return id;
}

/** Renders the payers' search page, with the "create a payer" form. */
async function renderPayers(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: OperatorPrincipal,
  create?: FormState,
  status = 200,
): Promise<FastifyReply> {
  const query = searchTerm(request);
  const page = await kit.services.overview.payers(query, afterId(request), limits.operatorPageRowsMax);
  const next = nextPage(operatorPaths.payers, { q: query }, page.next?.id);
  const frame = kit.frame(request, reply, session, operatorPaths.payers);
  return sendPage(
    reply,
    operatorPage(frame, 'Payers', payersBody(query, page, next, create, frame.csrfToken)),
    status,
  );
}

/** Renders a payer's page, with the deposit form; `payer_not_found` for no such payer. */
async function renderPayer(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: OperatorPrincipal,
  payerId: string,
  deposit?: FormState,
  status = 200,
): Promise<FastifyReply> {
  const { overview } = kit.services;
  const match = await overview.payers(payerId, undefined, 1);
  const payer = match.items[0];
  if (payer === undefined || payer.id !== payerId) throw new CountersignError('payer_not_found');
  const after = parseCursor(queryOf(request)['after']);
  const payments = await overview.payments({ payerId }, after, limits.operatorPartyPaymentsPageRowsMax);
  const frame = kit.frame(request, reply, session, operatorPaths.payers);
  const body = payerBody(
    {
      payer,
      balances: await overview.payerBalances(payerId),
      payments,
      nextPaymentsHref: nextPage(
        operatorPaths.payer(payerId),
        {},
        payments.next && cursorParam(payments.next),
      ),
      terminals: await kit.services.terminals.list(payerId),
      deposit,
      formKey: newFormKey(),
    },
    frame.csrfToken,
  );
  return sendPage(
    reply,
    operatorPage(frame, `Payer ${payerId}`, body, operatorNotice(queryOf(request)['notice'])),
    status,
  );
}

/** Renders the payees' search page, with the "create a payee" form. */
async function renderPayees(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: OperatorPrincipal,
  create?: FormState,
  status = 200,
): Promise<FastifyReply> {
  const query = searchTerm(request);
  const page = await kit.services.overview.payees(query, afterId(request), limits.operatorPageRowsMax);
  const next = nextPage(operatorPaths.payees, { q: query }, page.next?.id);
  const frame = kit.frame(request, reply, session, operatorPaths.payees);
  return sendPage(
    reply,
    operatorPage(
      frame,
      'Payees',
      payeesBody(query, page, next, create, frame.csrfToken),
      operatorNotice(queryOf(request)['notice']),
    ),
    status,
  );
}

/** The QR code of a new payer's first terminal, or undefined when the payer was created without one. */
async function terminalQrSvg(terminal: CreatedPayer['terminal']): Promise<SafeHtml | undefined> {
  if (terminal === null) return undefined;
  // Drawn from the platform's own URI (hex, digits, a fixed scheme), by the QR library: trusted markup.
  return trustedHtml(
    await QRCode.toString(terminal.enrollmentUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
  );
}

/** GET the payers' search page. */
async function showPayers(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return renderPayers(kit, request, reply, await kit.session(request, reply));
}

/** POST "create a payer": the new payer, with the first terminal's key shown once; or the form again. */
async function createPayer(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const id = formField(request.body, 'id')?.trim() ?? '';
  // `ocra` or `none` from the form; anything else is the service's invalid_request.
  const firstTerminal = formField(request.body, 'firstTerminal');
  try {
    const created = await kit.services.parties.createPayer(
      {
        id,
        password: formField(request.body, 'password') ?? '',
        verificationCode: formField(request.body, 'verificationCode')?.trim() ?? '',
        ...(firstTerminal === undefined ? {} : { firstTerminal: firstTerminal as FirstTerminal }),
      },
      session.actor,
    );
    const qrSvg = await terminalQrSvg(created.terminal);
    const frame = kit.frame(request, reply, session, operatorPaths.payers);
    return sendPage(
      reply,
      operatorPage(frame, 'Payer created', payerCreatedBody(created.id, created.terminal, qrSvg)),
      201,
    );
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    // Only the id is kept; the password and the verification code are never rendered back.
    const values = { id, ...(firstTerminal === 'none' ? { firstTerminal } : {}) };
    return renderPayers(
      kit,
      request,
      reply,
      session,
      { values, error: formErrorMessage(error) },
      error.status,
    );
  }
}

/** GET a payer's page. */
async function showPayer(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  return renderPayer(kit, request, reply, session, partyIdOf(request, 'payer_not_found'));
}

/** POST a payer's unlock; back to the payer's page. */
async function unlockPayer(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const payerId = partyIdOf(request, 'payer_not_found');
  await kit.services.authentication.unlock(payerId, session.actor);
  return redirectSeeOther(reply, `${operatorPaths.payer(payerId)}?notice=unlocked`);
}

/** POST a payer's block; back to the payer's page. */
async function blockPayer(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const payerId = partyIdOf(request, 'payer_not_found');
  await kit.services.authentication.block(payerId, session.actor);
  return redirectSeeOther(reply, `${operatorPaths.payer(payerId)}?notice=blocked`);
}

/** The amount and currency as typed, rendered back into the deposit form when it is refused. */
type DepositValues = { readonly amount: string; readonly currency: string };

/** The deposit form as read: the values to render back, and the amount or why there is none. */
type DepositForm =
  | {
      readonly values: DepositValues;
      readonly amount: bigint;
      readonly currency: string;
      readonly formKey: string;
    }
  | { readonly values: DepositValues; readonly error: string };

/** Reads the deposit form's amount, currency and form key; a message for the first that cannot be used. */
function readDepositForm(body: unknown): DepositForm {
  const amountText = formField(body, 'amount')?.trim() ?? '';
  const currency = formField(body, 'currency')?.trim().toUpperCase() ?? '';
  const formKey = formField(body, 'formKey') ?? '';
  const values = { amount: amountText, currency };
  const parsed = parseMajorUnits(amountText, currency);
  if (parsed.ok && /^[A-Za-z0-9_-]{16,64}$/.test(formKey)) {
    return { values, amount: parsed.minorUnits, currency, formKey };
  }
  const error = !isCurrency(currency)
    ? 'Enter a currency code such as EUR.'
    : parsed.ok
      ? formErrorMessage(new CountersignError('csrf_token_invalid'))
      : parsed.reason;
  return { values, error };
}

/** POST a deposit into a payer's wallet: back to the payer's page, or its deposit form again. */
async function deposit(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const payerId = formField(request.body, 'payerId') ?? '';
  if (!isPartyId(payerId)) throw new CountersignError('payer_not_found');
  const form = readDepositForm(request.body);
  if ('error' in form) return renderPayer(kit, request, reply, session, payerId, form, 400);
  const { values, amount, currency, formKey } = form;
  try {
    await kit.services.parties.deposit(
      { payerId, amount, currency, idempotencyKey: `operator-page:${formKey}` },
      session.actor,
    );
    return redirectSeeOther(reply, `${operatorPaths.payer(payerId)}?notice=deposited`);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    const state = { values, error: formErrorMessage(error) };
    return renderPayer(kit, request, reply, session, payerId, state, error.status);
  }
}

/** GET the payees' search page. */
async function showPayees(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return renderPayees(kit, request, reply, await kit.session(request, reply));
}

/** POST "create a payee": back to the payees, or the form again with why not. */
async function createPayee(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const values = {
    id: formField(request.body, 'id')?.trim() ?? '',
    name: formField(request.body, 'name') ?? '',
  };
  try {
    await kit.services.parties.createPayee(values, session.actor);
    return redirectSeeOther(reply, `${operatorPaths.payees}?notice=payee_created`);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    const state = { values, error: formErrorMessage(error) };
    return renderPayees(kit, request, reply, session, state, error.status);
  }
}

/** GET a payee's page: balances and one page of the payments received. */
async function showPayee(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { overview } = kit.services;
  const session = await kit.session(request, reply);
  const payeeId = partyIdOf(request, 'payee_not_found');
  const name = await overview.payeeName(payeeId);
  if (name === undefined) throw new CountersignError('payee_not_found');
  const payments = await overview.payments(
    { payeeId },
    parseCursor(queryOf(request)['after']),
    limits.operatorPartyPaymentsPageRowsMax,
  );
  const next = nextPage(operatorPaths.payee(payeeId), {}, payments.next && cursorParam(payments.next));
  const frame = kit.frame(request, reply, session, operatorPaths.payees);
  const body = payeeBody({ id: payeeId, name }, await overview.payeeBalances(payeeId), payments, next);
  return sendPage(reply, operatorPage(frame, `Payee ${payeeId}`, body));
}

/** Registers the payer pages: search, create, detail, unlock, block, deposit. */
function operatorPayerPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.payers,
      summary: 'Search payers; create a payer',
      query: ['q', 'after'],
      handler: showPayers,
    },
    {
      method: 'post',
      path: operatorPaths.payers,
      summary: 'Create a payer',
      form: ['id', 'password', 'verificationCode', 'firstTerminal'],
      handler: createPayer,
    },
    {
      method: 'get',
      path: '/operator/payers/:id',
      summary: 'A payer: lock state, balances, payments, terminals',
      params: ['id'],
      query: ['after', 'notice'],
      handler: showPayer,
    },
    {
      method: 'post',
      path: '/operator/payers/:id/unlock',
      summary: 'Unlock a payer',
      params: ['id'],
      form: [],
      handler: unlockPayer,
    },
    {
      method: 'post',
      path: '/operator/payers/:id/block',
      summary: 'Block a payer',
      params: ['id'],
      form: [],
      handler: blockPayer,
    },
    {
      method: 'post',
      path: operatorPaths.deposits,
      summary: "Deposit into a payer's wallet",
      form: ['payerId', 'amount', 'currency', 'formKey'],
      handler: deposit,
    },
  ]);
}

/** Registers the payee pages: search, create, detail. */
function operatorPayeePages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.payees,
      summary: 'Search payees; create a payee',
      query: ['q', 'after', 'notice'],
      handler: showPayees,
    },
    {
      method: 'post',
      path: operatorPaths.payees,
      summary: 'Create a payee',
      form: ['id', 'name'],
      handler: createPayee,
    },
    {
      method: 'get',
      path: '/operator/payees/:id',
      summary: 'A payee: balances and payments received',
      params: ['id'],
      query: ['after'],
      handler: showPayee,
    },
  ]);
}

/** Registers the payer and payee pages in the console's context. */
export function operatorPartyPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  operatorPayerPages(app, kit);
  operatorPayeePages(app, kit);
}
