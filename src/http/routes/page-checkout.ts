/**
 * The hosted checkout (the first terminal of a merchant's payment request): `checkoutUrl` shows merchant
 * name, amount and reference; the payer signs in, chooses where the first code goes, approves with the
 * second code (or the first code and the verification code) and is sent back to the merchant's return URL.
 * Plain forms, no script: the page context gives the strict CSP, CSRF checks and `__Host-` cookies. The
 * approval step is the answer to the sign-in form, because the first code exists only in that answer.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { CountersignError } from '../../domain/errors.js';
import { acceptsNewPayment, type PaymentRequest } from '../../domain/merchant.js';
import { isVerificationCode } from '../../domain/payer.js';
import type { DeliverTo } from '../../domain/payment.js';
import { secondCodePattern } from '../../domain/terminal-suite.js';
import type { PasskeyApprovalInput } from '../../services/passkeys/passkey-service.js';
import type { Approval } from '../../services/payments/payment-service.js';
import {
  approvalBody,
  approvalScripts,
  type CheckoutApproval,
  type CheckoutSummary,
  checkoutPage,
  checkoutPaths,
  outcomeBody,
  signInBody,
} from '../../web/checkout/checkout-views.js';
import { pageContentSecurityPolicy } from '../../web/csp.js';
import type { CsrfGuard } from '../../web/csrf.js';
import { errorPageMessage, pageMessage } from '../../web/messages.js';
import { formField, redirectSeeOther, registerPageContext, sendPage } from '../../web/page-context.js';
import { pageJsonResponses } from '../contract.js';
import type { FastifyTypebox, RoutePlugin } from '../dependencies.js';
import type { HttpServices } from '../services.js';
import { ceremonyResponseField } from './page-payer-passkeys.js';
import { pageSchema, registerPageRoutes } from './page-schemas.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Errors the sign-in form shows next to itself; any other one is an error page. */
const signInErrors = new Set([
  'authentication_failed',
  'payer_locked',
  'insufficient_funds',
  'payment_request_in_progress',
]);

function idOf(request: FastifyRequest): string {
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || !uuidPattern.test(id))
    throw new CountersignError('payment_request_not_found');
  return id;
}

/** A passkey approval the checkout's script put in the form, or undefined when there is none. */
function passkeyApprovalOf(body: unknown): PasskeyApprovalInput | undefined {
  const challengeId = formField(body, 'passkeyChallengeId');
  if (challengeId === undefined) return undefined;
  const response = ceremonyResponseField(body, 'passkeyResponse') ?? {};
  return { challengeId, response: response as unknown as PasskeyApprovalInput['response'] };
}

/** What the payer submitted to approve: one embodiment's codes, or undefined when neither is complete. */
function approvalOf(body: unknown): Approval | undefined {
  const secondCode = formField(body, 'secondCode')?.trim();
  const firstCode = formField(body, 'firstCode')?.trim();
  const verificationCode = formField(body, 'verificationCode');
  if (secondCode !== undefined && secondCodePattern.test(secondCode)) return { secondCode };
  if (firstCode !== undefined && /^[0-9]{8}$/.test(firstCode) && verificationCode !== undefined) {
    if (isVerificationCode(verificationCode)) return { firstCode, verificationCode };
  }
  return undefined;
}

/**
 * The policy of a page whose form may end in a redirect to the merchant: browsers apply `form-action` to
 * the redirect too, so the return URL's origin is allowed as a form target of this page alone.
 */
function withReturnOrigin(reply: FastifyReply, request: PaymentRequest): void {
  if (request.returnUrl === null) return;
  const origin = new URL(request.returnUrl).origin;
  const policy = pageContentSecurityPolicy({ connectToSelf: true }).replace(
    "form-action 'self'",
    `form-action 'self' ${origin}`,
  );
  reply.header('content-security-policy', policy);
}

/** What the checkout's handlers share. */
interface CheckoutKit {
  readonly services: HttpServices;
  readonly csrf: CsrfGuard;
}

/** The payment request of a checkout page with its merchant's name, as the page shows them. */
async function summaryOf(kit: CheckoutKit, id: string): Promise<CheckoutSummary> {
  const request = await kit.services.paymentRequests.forCheckout(id);
  return { request, merchantName: (await kit.services.merchants.get(request.merchantId)).name };
}

/**
 * The token a checkout page carries for the payment it started, so that only that page may cancel the
 * payment or ask for its passkey options.
 */
function cancelTokenOf(kit: CheckoutKit, paymentId: string): string {
  return kit.services.deps.secrets.keyedHash('checkout_cancel', paymentId);
}

/** Refuses (`forbidden`) a form whose cancel token is not the one of `paymentId`. */
function assertCancelToken(kit: CheckoutKit, body: unknown, paymentId: string): void {
  const token = formField(body, 'cancelToken') ?? '';
  if (!kit.services.deps.secrets.constantTimeEqualHex(token, cancelTokenOf(kit, paymentId)))
    throw new CountersignError('forbidden');
}

/** The payment named by the form, which must be one made for this request. */
async function paymentOfRequest(kit: CheckoutKit, body: unknown, requestId: string) {
  const paymentId = formField(body, 'paymentId') ?? '';
  if (!uuidPattern.test(paymentId)) throw new CountersignError('payment_not_found');
  const payment = await kit.services.payments.get(paymentId);
  if (payment.paymentRequestId !== requestId) throw new CountersignError('payment_not_found');
  return payment;
}

/** Renders the approval step of a payment this checkout started. */
function approvalPage(
  kit: CheckoutKit,
  reply: FastifyReply,
  request: FastifyRequest,
  view: CheckoutApproval,
  status = 200,
): FastifyReply {
  // The approval step's passkey script asks the platform for a ceremony's options (`connect-src 'self'`).
  reply.header('content-security-policy', pageContentSecurityPolicy({ connectToSelf: true }));
  withReturnOrigin(reply, view.summary.request);
  const body = approvalBody(view, kit.csrf.token(request, reply));
  return sendPage(reply, checkoutPage('Approve your payment', body, approvalScripts), status);
}

/** Renders the sign-in form, or the request's outcome once it takes no new payment. */
function signInPage(
  kit: CheckoutKit,
  reply: FastifyReply,
  request: FastifyRequest,
  summary: CheckoutSummary,
  form: Parameters<typeof signInBody>[2] = {},
  status = 200,
): FastifyReply {
  if (!acceptsNewPayment(summary.request, kit.services.deps.clock.nowMs())) {
    return sendPage(reply, checkoutPage('Payment request', outcomeBody(summary)), status);
  }
  return sendPage(
    reply,
    checkoutPage('Checkout', signInBody(summary, kit.csrf.token(request, reply), form)),
    status,
  );
}

/** GET the checkout: what the request asks for, and the sign-in form. */
async function showCheckout(
  kit: CheckoutKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  return signInPage(kit, reply, request, await summaryOf(kit, idOf(request)));
}

/** POST the sign-in form: a new payment's approval step, or the form again with why not. */
async function startPayment(
  kit: CheckoutKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const summary = await summaryOf(kit, idOf(request));
  const payerId = formField(request.body, 'payerId')?.trim() ?? '';
  const deliverTo: DeliverTo =
    formField(request.body, 'deliverTo') === 'second_terminal' ? 'second_terminal' : 'first_terminal';
  try {
    const payer = await kit.services.authentication.verifyPassword(
      payerId,
      formField(request.body, 'password') ?? '',
    );
    const created = await kit.services.paymentRequests.pay({
      payerId: payer,
      paymentRequestId: summary.request.id,
      deliverTo,
    });
    const view: CheckoutApproval = {
      summary,
      payment: created.payment,
      cancelToken: cancelTokenOf(kit, created.payment.id),
      ...(created.firstCode === undefined ? {} : { firstCode: created.firstCode }),
    };
    return approvalPage(kit, reply, request, view);
  } catch (error) {
    if (error instanceof CountersignError && signInErrors.has(error.code)) {
      const form = { payerId, deliverTo, error: errorPageMessage(error) };
      return signInPage(kit, reply, request, summary, form, error.status);
    }
    if (error instanceof CountersignError && error.code === 'payment_request_not_open') {
      return sendPage(
        reply,
        checkoutPage('Payment request', outcomeBody(await summaryOf(kit, summary.request.id))),
      );
    }
    throw error;
  }
}

/** POST the approval form: back to the merchant (or the outcome) when paid, else the step with why not. */
async function approvePayment(
  kit: CheckoutKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const summary = await summaryOf(kit, idOf(request));
  const payment = await paymentOfRequest(kit, request.body, summary.request.id);
  const view: CheckoutApproval = { summary, payment, cancelToken: cancelTokenOf(kit, payment.id) };
  const passkey = passkeyApprovalOf(request.body);
  const approval = passkey === undefined ? approvalOf(request.body) : undefined;
  if (passkey === undefined && approval === undefined) {
    const error = 'Enter the second code, or the first code together with your verification code.';
    return approvalPage(kit, reply, request, { ...view, error }, 400);
  }
  try {
    if (passkey !== undefined) await kit.services.passkeys.approve(payment.id, passkey);
    else await kit.services.payments.approve(payment.id, approval!);
  } catch (error) {
    if (
      error instanceof CountersignError &&
      (error.code === 'approval_failed' || error.code === 'payer_locked')
    ) {
      return approvalPage(kit, reply, request, { ...view, error: errorPageMessage(error) }, error.status);
    }
    if (error instanceof CountersignError && error.code === 'payment_not_approvable') {
      const notice = `${pageMessage('payment_not_approvable')} Start again if you still want to pay.`;
      const body = outcomeBody(await summaryOf(kit, summary.request.id), notice);
      return sendPage(reply, checkoutPage('Payment request', body), 409);
    }
    throw error;
  }
  const paid = await summaryOf(kit, summary.request.id);
  if (paid.request.returnUrl !== null) return redirectSeeOther(reply, paid.request.returnUrl);
  return sendPage(reply, checkoutPage('Paid', outcomeBody(paid)));
}

/** POST the cancellation of the payment this page started; back to the checkout to start again. */
async function cancelPayment(
  kit: CheckoutKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const id = idOf(request);
  const payment = await paymentOfRequest(kit, request.body, id);
  assertCancelToken(kit, request.body, payment.id);
  await kit.services.payments.cancel(payment.id, payment.payerId).catch((error: unknown) => {
    if (!(error instanceof CountersignError && error.code === 'payment_not_cancelable')) throw error;
  });
  return redirectSeeOther(reply, checkoutPaths.page(id));
}

/** POST for the options of a passkey approval of the payment this page started (JSON). */
async function passkeyOptions(kit: CheckoutKit, request: FastifyRequest, reply: FastifyReply) {
  const payment = await paymentOfRequest(kit, request.body, idOf(request));
  // Only the page that started the payment may ask: a challenge counts against the payer's bound.
  assertCancelToken(kit, request.body, payment.id);
  reply.header('cache-control', 'no-store');
  return kit.services.passkeys.approvalOptions(payment.payerId, payment.id);
}

/** Registers the checkout page and its sign-in form. */
function checkoutSignInPages(app: FastifyTypebox, kit: CheckoutKit): void {
  registerPageRoutes(app, kit, 'checkout pages', [
    {
      method: 'get',
      path: '/checkout/:id',
      summary: 'What a payment request asks for, and sign-in to pay it',
      params: ['id'],
      handler: showCheckout,
    },
    {
      method: 'post',
      path: '/checkout/:id/pay',
      summary: 'Sign in and start paying: the approval step',
      params: ['id'],
      form: ['payerId', 'password', 'deliverTo'],
      handler: startPayment,
    },
  ]);
}

/** Registers the approval step's forms: approve, cancel, and the passkey options. */
function checkoutApprovalPages(app: FastifyTypebox, kit: CheckoutKit): void {
  registerPageRoutes(app, kit, 'checkout pages', [
    {
      method: 'post',
      path: '/checkout/:id/approve',
      summary: 'Approve with the second code, or the first code and the verification code',
      params: ['id'],
      form: [
        'paymentId',
        'secondCode',
        'firstCode',
        'verificationCode',
        'cancelToken',
        'passkeyChallengeId',
        'passkeyResponse',
      ],
      handler: approvePayment,
    },
    {
      method: 'post',
      path: '/checkout/:id/cancel',
      summary: 'Cancel the payment this page started, and start again',
      params: ['id'],
      form: ['paymentId', 'cancelToken'],
      handler: cancelPayment,
    },
  ]);

  app.post(
    '/checkout/:id/passkey-options',
    {
      schema: {
        ...pageSchema({
          tag: 'checkout pages',
          summary: "Options to approve this page's payment with a passkey (JSON)",
          params: ['id'],
          form: ['paymentId', 'cancelToken'],
        }),
        response: pageJsonResponses,
      },
    },
    (request, reply) => passkeyOptions(kit, request, reply),
  );
}

/** The hosted checkout pages. */
export function checkoutPageRoutes(services: HttpServices): RoutePlugin {
  return async (app) => {
    const { csrf } = await registerPageContext(app, {
      area: 'checkout',
      secrets: services.deps.secrets,
      // No session: the payer signs in with each payment, and approval needs only the codes.
      sessionBinding: () => '',
    });
    const kit: CheckoutKit = { services, csrf };
    checkoutSignInPages(app, kit);
    checkoutApprovalPages(app, kit);
  };
}
