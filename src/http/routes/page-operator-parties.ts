/**
 * The console's payers and payees: search, create, detail, unlock, deposit. Each POST calls one service
 * and redirects (303), except creating a payer, whose answer shows the new terminal's key once.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { CountersignError } from '../../domain/errors.js';
import { isCurrency } from '../../domain/money.js';
import { isPartyId } from '../../domain/payer.js';
import type { OperatorPrincipal } from '../../services/operators/operator-service.js';
import type { FirstTerminal } from '../../services/parties/party-service.js';
import { parseMajorUnits } from '../../web/amount.js';
import { trustedHtml } from '../../web/html.js';
import { formErrorMessage } from '../../web/messages.js';
import { operatorNotice, operatorPage, operatorPaths } from '../../web/operator/operator-frame.js';
import {
  type FormState,
  nextPage,
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
import { pageSchema } from './page-schemas.js';

/** A search term from the query: at most 64 characters, else none. */
function searchTerm(request: FastifyRequest): string {
  const raw = queryOf(request)['q'];
  return typeof raw === 'string' && raw.length <= 64 ? raw.trim() : '';
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

/** Registers the payer and payee pages in the console's context. */
export function operatorPartyPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  const { services } = kit;

  const renderPayers = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: OperatorPrincipal,
    create?: FormState,
    status = 200,
  ) => {
    const query = searchTerm(request);
    const page = await services.overview.payers(query, afterId(request), 50);
    const next = nextPage(operatorPaths.payers, { q: query }, page.next?.id);
    const frame = kit.frame(request, reply, session, operatorPaths.payers);
    return sendPage(
      reply,
      operatorPage(frame, 'Payers', payersBody(query, page, next, create, frame.csrfToken)),
      status,
    );
  };

  const renderPayer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: OperatorPrincipal,
    payerId: string,
    deposit?: FormState,
    status = 200,
  ) => {
    const match = await services.overview.payers(payerId, undefined, 1);
    const payer = match.items[0];
    if (payer === undefined || payer.id !== payerId) throw new CountersignError('payer_not_found');
    const after = parseCursor(queryOf(request)['after']);
    const payments = await services.overview.payments({ payerId }, after, 20);
    const frame = kit.frame(request, reply, session, operatorPaths.payers);
    const body = payerBody(
      {
        payer,
        balances: await services.overview.payerBalances(payerId),
        payments,
        nextPaymentsHref: nextPage(
          operatorPaths.payer(payerId),
          {},
          payments.next && cursorParam(payments.next),
        ),
        terminals: await services.terminals.list(payerId),
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
  };

  app.get(
    operatorPaths.payers,
    {
      schema: pageSchema({
        tag: 'operator pages',
        summary: 'Search payers; create a payer',
        query: ['q', 'after'],
      }),
    },
    async (request, reply) => renderPayers(request, reply, await kit.session(request, reply)),
  );

  app.post(
    operatorPaths.payers,
    {
      schema: pageSchema({
        tag: 'operator pages',
        summary: 'Create a payer',
        form: ['id', 'password', 'verificationCode', 'firstTerminal'],
      }),
    },
    async (request, reply) => {
      const session = await kit.session(request, reply);
      const id = formField(request.body, 'id')?.trim() ?? '';
      // `ocra` or `none` from the form; anything else is the service's invalid_request.
      const firstTerminal = formField(request.body, 'firstTerminal');
      try {
        const created = await services.parties.createPayer(
          {
            id,
            password: formField(request.body, 'password') ?? '',
            verificationCode: formField(request.body, 'verificationCode')?.trim() ?? '',
            ...(firstTerminal === undefined ? {} : { firstTerminal: firstTerminal as FirstTerminal }),
          },
          session.actor,
        );
        // Drawn from the platform's own URI (hex, digits, a fixed scheme), by the QR library: trusted markup.
        const qrSvg =
          created.terminal === null
            ? undefined
            : trustedHtml(
                await QRCode.toString(created.terminal.enrollmentUri, {
                  type: 'svg',
                  errorCorrectionLevel: 'M',
                  margin: 2,
                }),
              );
        const frame = kit.frame(request, reply, session, operatorPaths.payers);
        return sendPage(
          reply,
          operatorPage(frame, 'Payer created', payerCreatedBody(created.id, created.terminal, qrSvg)),
          201,
        );
      } catch (error) {
        if (!(error instanceof CountersignError)) throw error;
        // Only the id is kept; the password and the verification code are never rendered back.
        return renderPayers(
          request,
          reply,
          session,
          {
            values: { id, ...(firstTerminal === 'none' ? { firstTerminal } : {}) },
            error: formErrorMessage(error),
          },
          error.status,
        );
      }
    },
  );

  app.get(
    '/operator/payers/:id',
    {
      schema: pageSchema({
        tag: 'operator pages',
        summary: 'A payer: lock state, balances, payments, terminals',
        params: ['id'],
        query: ['after', 'notice'],
      }),
    },
    async (request, reply) =>
      renderPayer(request, reply, await kit.session(request, reply), partyIdOf(request, 'payer_not_found')),
  );

  app.post(
    '/operator/payers/:id/unlock',
    { schema: pageSchema({ tag: 'operator pages', summary: 'Unlock a payer', params: ['id'], form: [] }) },
    async (request, reply) => {
      const session = await kit.session(request, reply);
      const payerId = partyIdOf(request, 'payer_not_found');
      await services.authentication.unlock(payerId, session.actor);
      return redirectSeeOther(reply, `${operatorPaths.payer(payerId)}?notice=unlocked`);
    },
  );

  app.post(
    '/operator/payers/:id/block',
    { schema: pageSchema({ tag: 'operator pages', summary: 'Block a payer', params: ['id'], form: [] }) },
    async (request, reply) => {
      const session = await kit.session(request, reply);
      const payerId = partyIdOf(request, 'payer_not_found');
      await services.authentication.block(payerId, session.actor);
      return redirectSeeOther(reply, `${operatorPaths.payer(payerId)}?notice=blocked`);
    },
  );

  app.post(
    operatorPaths.deposits,
    {
      schema: pageSchema({
        tag: 'operator pages',
        summary: "Deposit into a payer's wallet",
        form: ['payerId', 'amount', 'currency', 'formKey'],
      }),
    },
    async (request, reply) => {
      const session = await kit.session(request, reply);
      const payerId = formField(request.body, 'payerId') ?? '';
      if (!isPartyId(payerId)) throw new CountersignError('payer_not_found');
      const amountText = formField(request.body, 'amount')?.trim() ?? '';
      const currency = formField(request.body, 'currency')?.trim().toUpperCase() ?? '';
      const formKey = formField(request.body, 'formKey') ?? '';
      const values = { amount: amountText, currency };
      const parsed = parseMajorUnits(amountText, currency);
      if (!parsed.ok || !/^[A-Za-z0-9_-]{16,64}$/.test(formKey)) {
        const error = !isCurrency(currency)
          ? 'Enter a currency code such as EUR.'
          : parsed.ok
            ? formErrorMessage(new CountersignError('csrf_token_invalid'))
            : parsed.reason;
        return renderPayer(request, reply, session, payerId, { values, error }, 400);
      }
      try {
        await services.parties.deposit(
          {
            payerId,
            amount: parsed.minorUnits,
            currency,
            idempotencyKey: `operator-page:${formKey}`,
          },
          session.actor,
        );
        return redirectSeeOther(reply, `${operatorPaths.payer(payerId)}?notice=deposited`);
      } catch (error) {
        if (!(error instanceof CountersignError)) throw error;
        return renderPayer(
          request,
          reply,
          session,
          payerId,
          { values, error: formErrorMessage(error) },
          error.status,
        );
      }
    },
  );

  const renderPayees = async (
    request: FastifyRequest,
    reply: FastifyReply,
    session: OperatorPrincipal,
    create?: FormState,
    status = 200,
  ) => {
    const query = searchTerm(request);
    const page = await services.overview.payees(query, afterId(request), 50);
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
  };

  app.get(
    operatorPaths.payees,
    {
      schema: pageSchema({
        tag: 'operator pages',
        summary: 'Search payees; create a payee',
        query: ['q', 'after', 'notice'],
      }),
    },
    async (request, reply) => renderPayees(request, reply, await kit.session(request, reply)),
  );

  app.post(
    operatorPaths.payees,
    { schema: pageSchema({ tag: 'operator pages', summary: 'Create a payee', form: ['id', 'name'] }) },
    async (request, reply) => {
      const session = await kit.session(request, reply);
      const values = {
        id: formField(request.body, 'id')?.trim() ?? '',
        name: formField(request.body, 'name') ?? '',
      };
      try {
        await services.parties.createPayee(values, session.actor);
        return redirectSeeOther(reply, `${operatorPaths.payees}?notice=payee_created`);
      } catch (error) {
        if (!(error instanceof CountersignError)) throw error;
        return renderPayees(
          request,
          reply,
          session,
          { values, error: formErrorMessage(error) },
          error.status,
        );
      }
    },
  );

  app.get(
    '/operator/payees/:id',
    {
      schema: pageSchema({
        tag: 'operator pages',
        summary: 'A payee: balances and payments received',
        params: ['id'],
        query: ['after'],
      }),
    },
    async (request, reply) => {
      const session = await kit.session(request, reply);
      const payeeId = partyIdOf(request, 'payee_not_found');
      const name = await services.overview.payeeName(payeeId);
      if (name === undefined) throw new CountersignError('payee_not_found');
      const payments = await services.overview.payments(
        { payeeId },
        parseCursor(queryOf(request)['after']),
        20,
      );
      const next = nextPage(operatorPaths.payee(payeeId), {}, payments.next && cursorParam(payments.next));
      const frame = kit.frame(request, reply, session, operatorPaths.payees);
      const body = payeeBody(
        { id: payeeId, name },
        await services.overview.payeeBalances(payeeId),
        payments,
        next,
      );
      return sendPage(reply, operatorPage(frame, `Payee ${payeeId}`, body));
    },
  );
}
