/**
 * Signing a payment's passkey challenge in the browser, shared by the payer's pages, the checkout and the
 * browser authenticator (`/terminal/`): Secure Payment Confirmation where the browser offers it, so that
 * the browser's own dialog shows the payee and the amount the challenge binds; plain WebAuthn otherwise,
 * with the payment shown by the page. Either way the signature covers the same challenge, and the platform
 * accepts both kinds of client data (`webauthn.get`, `payment.get`).
 */
import type * as WebAuthnBrowser from '@simplewebauthn/browser';

/** The WebAuthn browser library, vendored and loaded before the page scripts; undefined where it did not load. */
export function webAuthnLibrary(): typeof WebAuthnBrowser | undefined {
  return (globalThis as { SimpleWebAuthnBrowser?: typeof WebAuthnBrowser }).SimpleWebAuthnBrowser;
}

/** What the platform sends with an approval's options, for a browser's own payment dialog. */
export interface PaymentDisplay {
  readonly payeeName: string;
  readonly amount: string;
  readonly currency: string;
}

/** Options of an approval ceremony as the platform answers them. */
export type RequestOptions = Parameters<typeof WebAuthnBrowser.startAuthentication>[0]['optionsJSON'];

/** How an approval was signed, for the page to say (and for tests to check which path ran). */
export type CeremonyPath = 'secure-payment-confirmation' | 'webauthn';

/** `PaymentRequest` with the static method of Secure Payment Confirmation, where the browser has it. */
type SpcPaymentRequest = typeof PaymentRequest & {
  isSecurePaymentConfirmationAvailable?: () => Promise<boolean>;
};

/**
 * A Secure Payment Confirmation request for this payment, or undefined where the browser cannot show one:
 * no `PaymentRequest`, the method unknown, or `canMakePayment()` false (no dialog possible here).
 */
async function spcRequest(
  webauthn: typeof WebAuthnBrowser,
  options: RequestOptions,
  display: PaymentDisplay,
): Promise<PaymentRequest | undefined> {
  const Request = (globalThis as { PaymentRequest?: SpcPaymentRequest }).PaymentRequest;
  if (Request === undefined) return undefined;
  if (
    Request.isSecurePaymentConfirmationAvailable !== undefined &&
    !(await Request.isSecurePaymentConfirmationAvailable())
  )
    return undefined;
  const request = new Request(
    [
      {
        supportedMethods: 'secure-payment-confirmation',
        data: {
          credentialIds: (options.allowCredentials ?? []).map((c) => webauthn.base64URLStringToBuffer(c.id)),
          challenge: webauthn.base64URLStringToBuffer(options.challenge),
          rpId: options.rpId,
          payeeName: display.payeeName,
          instrument: { displayName: 'Countersign', icon: new URL('/terminal/icon.svg', location.href).href },
          timeout: options.timeout,
        },
      },
    ],
    { total: { label: 'Total', amount: { currency: display.currency, value: display.amount } } },
  );
  return (await request.canMakePayment()) ? request : undefined;
}

async function signWithSpc(request: PaymentRequest): Promise<Record<string, unknown>> {
  const response = await request.show();
  await response.complete('success');
  const credential = response.details as PublicKeyCredential & { toJSON?: () => unknown };
  const json = credential.toJSON?.();
  if (json === undefined || json === null || typeof json !== 'object')
    throw new Error('the payment dialog answered no credential');
  return json as Record<string, unknown>;
}

/**
 * Signs an approval's challenge: with Secure Payment Confirmation where the browser offers it (any failure
 * of the dialog, such as a credential it does not know for payments, falls back), else plain WebAuthn.
 */
export async function signApproval(
  webauthn: typeof WebAuthnBrowser,
  options: RequestOptions,
  display: PaymentDisplay | undefined,
): Promise<{ response: Record<string, unknown>; path: CeremonyPath }> {
  if (display !== undefined) {
    const request = await spcRequest(webauthn, options, display).catch(() => undefined);
    const response = request === undefined ? undefined : await signWithSpc(request).catch(() => undefined);
    if (response !== undefined) return { response, path: 'secure-payment-confirmation' };
  }
  const response = await webauthn.startAuthentication({ optionsJSON: options });
  return { response: response as unknown as Record<string, unknown>, path: 'webauthn' };
}
