/**
 * The payer's payment pages: pay someone, the approval step, a payment's detail, cancel. The approval step
 * is the answer to the "pay" form itself, because the first code (when it is shown here) exists only in
 * that answer; every other POST ends in a 303 redirect.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { isCurrency } from '../../domain/money.js';
import { isPartyId } from '../../domain/payer.js';
import { type DeliverTo, isApprovable } from '../../domain/payment.js';
import { secondCodePattern } from '../../domain/terminal-suite.js';
import type { PasskeyApprovalInput } from '../../services/passkeys/passkey-service.js';
import type { Approval } from '../../services/payments/payment-service.js';
import { parseMajorUnits } from '../../web/amount.js';
import { errorPageMessage, pageMessage } from '../../web/messages.js';
import { formField, redirectSeeOther, sendPage } from '../../web/page-context.js';
import { noticeBanner, payerPage, payerPaths } from '../../web/payer/payer-frame.js';
import { type ApprovalView, type PayForm, payBody, paymentBody } from '../../web/payer/payment-views.js';
import type { FastifyTypebox } from '../dependencies.js';
import { newFormKey, type PayerPageKit, type PayerSession } from './page-payer-kit.js';
import { ceremonyResponseField } from './page-payer-passkeys.js';
import { registerPageRoutes } from './page-schemas.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const formKeyPattern = /^[A-Za-z0-9_-]{16,64}$/;

/** The payment id of a path, or `payment_not_found` for anything that is not a payment id. */
function paymentIdOf(request: FastifyRequest): string {
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || !uuidPattern.test(id)) throw new CountersignError('payment_not_found');
  return id;
}

type PayErrors = NonNullable<PayForm['errors']>;

/** Reads the "pay" form; field errors for what cannot be a payment, before any service is called. */
function readPayForm(body: unknown): { form: PayForm; errors: PayErrors; amount?: bigint } {
  const payeeId = formField(body, 'payeeId')?.trim() ?? '';
  const amountText = formField(body, 'amount')?.trim() ?? '';
  const currency = formField(body, 'currency') ?? '';
  const deliverToField = formField(body, 'deliverTo');
  const deliverTo: DeliverTo = deliverToField === 'second_terminal' ? 'second_terminal' : 'first_terminal';
  const formKey = formField(body, 'formKey') ?? '';
  const form: PayForm = {
    payeeId,
    amount: amountText,
    currency,
    deliverTo,
    formKey: formKeyPattern.test(formKey) ? formKey : newFormKey(),
  };
  const errors: { -readonly [field in keyof PayErrors]: string } = {};
  if (!isPartyId(payeeId))
    errors.payeeId = `Enter the payee id: ${limits.partyIdLengthMin} to ${limits.partyIdLengthMax} letters, digits or . _ @ + -`;
  if (!isCurrency(currency)) errors.currency = 'Choose a currency.';
  const parsed = parseMajorUnits(amountText, currency);
  if (!parsed.ok && errors.currency === undefined) errors.amount = parsed.reason;
  if (!formKeyPattern.test(formKey)) errors.form = pageMessage('csrf_token_invalid');
  return parsed.ok ? { form, errors, amount: parsed.minorUnits } : { form, errors };
}

/** Where an error of payment creation is shown on the form. */
function payErrorsOf(error: CountersignError): PayErrors {
  const message = errorPageMessage(error);
  if (error.code === 'payee_not_found') return { payeeId: message };
  if (error.code === 'insufficient_funds') return { amount: message };
  if (error.code === 'invalid_request' && error.param === 'amount') return { amount: message };
  return { form: message };
}

/** Reads the approval form: embodiment 1 (second code) or 2 (first code and verification code). */
function readApproval(body: unknown): Approval | undefined {
  const secondCode = formField(body, 'secondCode')?.trim();
  const firstCode = formField(body, 'firstCode')?.trim();
  const verificationCode = formField(body, 'verificationCode')?.trim();
  if (secondCode !== undefined && firstCode === undefined && secondCodePattern.test(secondCode)) {
    return { secondCode };
  }
  if (
    secondCode === undefined &&
    firstCode !== undefined &&
    verificationCode !== undefined &&
    /^[0-9]{8}$/.test(firstCode) &&
    /^[0-9]{4,12}$/.test(verificationCode)
  ) {
    return { firstCode, verificationCode };
  }
  return undefined;
}

/**
 * Reads a passkey approval: the ceremony's challenge id and the assertion the page script put in the form.
 * A malformed assertion is still an approval (it is refused and counted as a wrong code by the platform).
 */
function readPasskeyApproval(body: unknown): PasskeyApprovalInput | undefined {
  if (formField(body, 'passkeyChallengeId') === undefined) return undefined;
  const response = ceremonyResponseField(body, 'passkeyResponse') ?? {};
  return {
    challengeId: formField(body, 'passkeyChallengeId') ?? '',
    response: response as unknown as PasskeyApprovalInput['response'],
  };
}

/** Renders the "pay someone" form, in the first currency the payer holds unless the form names one. */
async function renderPay(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PayerSession,
  form: PayForm,
  status = 200,
): Promise<FastifyReply> {
  const balances = await kit.services.overview.payerBalances(session.payerId);
  const currencies = balances.map((balance) => balance.currency);
  const frame = kit.frame(request, reply, session, payerPaths.pay);
  const withCurrency = { ...form, currency: form.currency || currencies[0] || 'EUR' };
  return sendPage(
    reply,
    payerPage(frame, 'Pay someone', payBody(withCurrency, currencies, frame.csrfToken)),
    status,
  );
}

/** Renders a payment's page: the approval step while it is approvable, else its detail. */
async function renderPayment(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PayerSession,
  view: Omit<ApprovalView, 'payeeName'>,
  status = 200,
): Promise<FastifyReply> {
  const { services } = kit;
  const payeeName = (await services.overview.payeeName(view.payment.payeeId)) ?? view.payment.payeeId;
  const frame = kit.frame(request, reply, session, payerPaths.payment(view.payment.id));
  const approvable = isApprovable(view.payment, services.deps.clock.nowMs());
  const query = request.query as Record<string, unknown>;
  const body = paymentBody({ ...view, payeeName }, approvable, frame.csrfToken);
  return sendPage(
    reply,
    payerPage(frame, approvable ? 'Approve' : 'Payment', body, noticeBanner(query['notice'])),
    status,
  );
}

/** GET the "pay someone" form, with a new form key. */
async function showPay(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return renderPay(kit, request, reply, await kit.session(request), { formKey: newFormKey() });
}

/** POST the "pay someone" form: the new payment's approval step, or the form again with its errors. */
async function createPayment(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request);
  const { form, errors, amount } = readPayForm(request.body);
  if (Object.keys(errors).length > 0 || amount === undefined)
    return renderPay(kit, request, reply, session, { ...form, errors }, 400);
  try {
    const created = await kit.services.payments.create({
      payerId: session.payerId,
      payeeId: form.payeeId!,
      amount,
      currency: form.currency!,
      deliverTo: form.deliverTo!,
      idempotencyKey: `page:${session.payerId}:${form.formKey}`,
    });
    const view =
      created.firstCode === undefined
        ? { payment: created.payment }
        : { payment: created.payment, firstCode: created.firstCode };
    return renderPayment(kit, request, reply, session, view, 201);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    return renderPay(kit, request, reply, session, { ...form, errors: payErrorsOf(error) }, error.status);
  }
}

/** GET a payment of the signed-in payer. */
async function showPayment(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request);
  const payment = await kit.services.payments.get(paymentIdOf(request), session.payerId);
  return renderPayment(kit, request, reply, session, { payment });
}

/** POST the approval form: approved, or the payment's page again with why not. */
async function approvePayment(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { services } = kit;
  const session = await kit.session(request);
  const payment = await services.payments.get(paymentIdOf(request), session.payerId);
  const passkey = readPasskeyApproval(request.body);
  const approval = passkey === undefined ? readApproval(request.body) : undefined;
  if (passkey === undefined && approval === undefined) {
    const error =
      'Enter the second code (6 to 10 digits), or the first code (8 digits) with your verification code.';
    return renderPayment(kit, request, reply, session, { payment, error }, 400);
  }
  try {
    if (passkey !== undefined) await services.passkeys.approve(payment.id, passkey);
    else await services.payments.approve(payment.id, approval!);
    return redirectSeeOther(reply, `${payerPaths.payment(payment.id)}?notice=approved`);
  } catch (error) {
    if (!(error instanceof CountersignError)) throw error;
    if (error.code === 'payment_not_approvable') {
      return redirectSeeOther(reply, `${payerPaths.payment(payment.id)}?notice=not_approvable`);
    }
    const now = await services.payments.get(payment.id, session.payerId);
    const view = { payment: now, error: errorPageMessage(error) };
    return renderPayment(kit, request, reply, session, view, error.status);
  }
}

/** POST a payment's cancellation; back to the payment's page with the outcome. */
async function cancelPayment(
  kit: PayerPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request);
  const id = paymentIdOf(request);
  try {
    await kit.services.payments.cancel(id, session.payerId);
    return redirectSeeOther(reply, `${payerPaths.payment(id)}?notice=canceled`);
  } catch (error) {
    if (!(error instanceof CountersignError) || error.code !== 'payment_not_cancelable') throw error;
    return redirectSeeOther(reply, `${payerPaths.payment(id)}?notice=not_cancelable`);
  }
}

/** Registers the payment pages in the payer's context. */
export function payerPaymentPages(app: FastifyTypebox, kit: PayerPageKit): void {
  registerPageRoutes(app, kit, 'payer pages', [
    { method: 'get', path: payerPaths.pay, summary: 'The "pay someone" form', handler: showPay },
    {
      method: 'post',
      path: payerPaths.pay,
      summary: 'Create a payment and show the approval step',
      form: ['payeeId', 'amount', 'currency', 'deliverTo', 'formKey'],
      handler: createPayment,
    },
    {
      method: 'get',
      path: '/payments/:id',
      summary: 'A payment, with the approval step while it is open',
      params: ['id'],
      query: ['notice'],
      handler: showPayment,
    },
    {
      method: 'post',
      path: '/payments/:id/approve',
      summary: 'Approve a payment with its codes',
      params: ['id'],
      form: ['secondCode', 'firstCode', 'verificationCode', 'passkeyChallengeId', 'passkeyResponse'],
      handler: approvePayment,
    },
    {
      method: 'post',
      path: '/payments/:id/cancel',
      summary: 'Cancel an open payment',
      params: ['id'],
      form: [],
      handler: cancelPayment,
    },
  ]);
}
