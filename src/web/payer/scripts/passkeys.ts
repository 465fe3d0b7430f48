/**
 * The passkey ceremonies of the payer's pages and of the checkout's approval step. Adding a passkey: fetch the registration options, let the
 * browser create the credential, post its answer with the form. Approving a payment: fetch the options whose
 * challenge the platform derived from this payment, let the browser sign it, post the assertion with the
 * form; the platform checks it as the payment's second code. The forms stay hidden where the browser has
 * no WebAuthn, so a payer never meets a button that cannot work.
 */
import type * as WebAuthnBrowser from '@simplewebauthn/browser';
import {
  type PaymentDisplay,
  type RequestOptions,
  signApproval,
  webAuthnLibrary,
} from '../../scripts/passkey-ceremony.js';

function field(form: HTMLFormElement, name: string): HTMLInputElement {
  const input = form.elements.namedItem(name);
  if (!(input instanceof HTMLInputElement)) throw new Error(`the form has no field ${name}`);
  return input;
}

/** Fields a ceremony's options are asked with: the CSRF token, and at checkout the payment and its page token. */
const optionFields = ['_csrf', 'paymentId', 'cancelToken'];

/** Posts the form's option fields to `url` and reads the ceremony's options. */
async function ceremonyOptions<Options>(
  form: HTMLFormElement,
  url: string,
): Promise<{ challengeId: string; options: Options; display?: unknown }> {
  const body = new URLSearchParams();
  for (const name of optionFields) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement) body.set(name, input.value);
  }
  const answer = await fetch(url, { method: 'POST', body, credentials: 'same-origin' });
  if (!answer.ok) throw new Error(`the platform answered ${answer.status}`);
  return (await answer.json()) as { challengeId: string; options: Options; display?: unknown };
}

function showError(form: HTMLFormElement, text: string): void {
  let box = form.querySelector<HTMLElement>('.error');
  if (box === null) {
    box = document.createElement('div');
    box.className = 'error';
    box.setAttribute('role', 'alert');
    form.prepend(box);
  }
  box.textContent = text;
}

/** Runs `ceremony` when the form is submitted, then submits it for real with the ceremony's answer. */
function driveForm(form: HTMLFormElement, ceremony: () => Promise<void>): void {
  form.hidden = false;
  let running = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (running) return;
    running = true;
    ceremony()
      .then(() => form.submit())
      .catch(() => {
        running = false;
        showError(form, 'The passkey did not answer. Try again, or use another way below.');
      });
  });
}

function start(webauthn: typeof WebAuthnBrowser): void {
  if (!webauthn.browserSupportsWebAuthn()) return;
  const register = document.getElementById('passkey-register-form');
  if (register instanceof HTMLFormElement) {
    driveForm(register, async () => {
      const { challengeId, options } = await ceremonyOptions<
        Parameters<typeof webauthn.startRegistration>[0]['optionsJSON']
      >(register, register.dataset['optionsUrl'] ?? '');
      const response = await webauthn.startRegistration({ optionsJSON: options });
      field(register, 'challengeId').value = challengeId;
      field(register, 'response').value = JSON.stringify(response);
    });
  }
  const approve = document.getElementById('passkey-approve-form');
  if (approve instanceof HTMLFormElement) {
    driveForm(approve, async () => {
      const { challengeId, options, display } = await ceremonyOptions<RequestOptions>(
        approve,
        approve.dataset['optionsUrl'] ?? '',
      );
      // Secure Payment Confirmation first, where the browser has it; any failure of it falls back.
      const { response } = await signApproval(webauthn, options, display as PaymentDisplay | undefined);
      field(approve, 'passkeyChallengeId').value = challengeId;
      field(approve, 'passkeyResponse').value = JSON.stringify(response);
    });
  }
}

const library = webAuthnLibrary();
if (library !== undefined) start(library);
