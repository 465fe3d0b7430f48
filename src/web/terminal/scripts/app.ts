/**
 * Page script: the browser authenticator at `/terminal/` (docs/terminal.md, "Browser authenticator").
 *
 * Enroll by pasting or scanning the enrollment URI: the page generates a P-256 key pair, redeems the
 * enrollment (confirming the verification code), and stores both keys encrypted under that code. Unlock
 * with the code to receive pushed payments, each shown with payee, amount and expiry; approving asks the
 * code again, computes the second code with the project's OCRA module and either sends it, signed, or
 * shows it to type into the first terminal. The offline form computes a second code without a network.
 * Markup is in the page; this script only fills text and toggles `hidden`, never builds HTML from strings.
 */

import { base64urlToBytes, importPrivateKey } from '../../../domain/enrollment-credential.js';
import { EnrollmentUriError, parseEnrollmentUri } from '../../../domain/enrollment-uri.js';
import { hexToBytes } from '../../../domain/hex.js';
import { limits } from '../../../domain/limits.js';
import { formatMoney } from '../../../domain/money.js';
import { computeOcra } from '../../../domain/ocra.js';
import {
  PlatformRefusal,
  SignedRequests,
  TerminalApiClient,
} from '../../../terminal-core/terminal-api-client.js';
import { enrollTerminal } from '../../../terminal-core/terminal-enrollment.js';
import type { Challenge } from '../../../terminal-core/terminal-events.js';
import {
  type PaymentDisplay,
  type RequestOptions,
  signApproval,
  webAuthnLibrary,
} from '../../scripts/passkey-ceremony.js';
import { startScanner } from './scanner.js';
import {
  forgetTerminal,
  loadTerminal,
  openSecrets,
  type StoredTerminal,
  saveTerminal,
  WrongCodeError,
} from './vault.js';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found as T;
}

const sections = ['enroll', 'locked', 'payer-lock', 'pending', 'offline', 'manage'] as const;
const messageBox = element<HTMLDivElement>('message');
const connection = element<HTMLParagraphElement>('connection');
const challengeList = element<HTMLUListElement>('challenges');
const template = element<HTMLTemplateElement>('challenge-template');
const confirmDialog = element<HTMLDialogElement>('confirm');

/** Messages of the codes a payer may meet here; others show the platform's own message. */
const messages: Readonly<Record<string, string>> = {
  enrollment_invalid: 'This enrollment link is not valid. Ask for a new one.',
  enrollment_not_redeemable: 'This enrollment link was used already or has expired. Ask for a new one.',
  enrollment_confirmation_failed: 'This is not your verification code. Check it and try again.',
  approval_failed: 'The code did not approve this payment. After three wrong attempts the payment fails.',
  payment_not_approvable: 'This payment can no longer be approved.',
  payer_locked:
    'Your payer id is locked after too many failed attempts. Wait, unlock it here with your verification code, or contact the operator.',
  terminal_revoked: 'This terminal was revoked. Remove it and enroll again.',
  terminal_streams_exhausted: 'This terminal is open in too many windows.',
};

/**
 * The page's requests to the platform: its own origin, never with cookies (the signature is the
 * credential), never from the HTTP cache. One for the page, so that every request shares the clock offset.
 */
const signedRequests = new SignedRequests({
  platformUrl: '',
  requestInit: { credentials: 'omit', cache: 'no-store' },
  unexplainedRefusal: (status) => `The platform answered HTTP ${status}.`,
});

let stored: StoredTerminal | undefined;
let api: TerminalApiClient | undefined;
let streamAbort: AbortController | undefined;
const challenges = new Map<string, Challenge>();

function show(...visible: (typeof sections)[number][]): void {
  for (const id of sections) element(id).hidden = !visible.includes(id);
}

function say(kind: 'notice' | 'error', text: string): void {
  messageBox.className = kind;
  messageBox.textContent = text;
  messageBox.hidden = false;
}

function explain(error: unknown): string {
  if (error instanceof PlatformRefusal) return messages[error.code] ?? error.message;
  if (error instanceof WrongCodeError || error instanceof EnrollmentUriError) return error.message;
  return 'Something went wrong; nothing was sent. Try again.';
}

function setConnection(text: string): void {
  connection.textContent = text;
  connection.hidden = false;
}

function describe(challenge: Challenge): string {
  return `${formatMoney(BigInt(challenge.amount), challenge.currency)} to ${challenge.payeeName}`;
}

function renderChallenges(): void {
  const nowMs = Date.now();
  for (const [paymentId, challenge] of challenges) {
    if (Date.parse(challenge.expiresAt) <= nowMs) challenges.delete(paymentId);
  }
  for (const item of Array.from(challengeList.children)) {
    const paymentId = (item as HTMLElement).dataset['paymentId'] ?? '';
    if (!challenges.has(paymentId)) item.remove();
  }
  for (const challenge of challenges.values()) {
    let item = challengeList.querySelector<HTMLLIElement>(
      `li[data-payment-id="${CSS.escape(challenge.paymentId)}"]`,
    );
    if (item === null) {
      item = (template.content.firstElementChild as HTMLLIElement).cloneNode(true) as HTMLLIElement;
      item.dataset['paymentId'] = challenge.paymentId;
      item.querySelector('.payee')!.textContent = challenge.payeeName;
      item.querySelector('.amount')!.textContent = formatMoney(BigInt(challenge.amount), challenge.currency);
      // Offered where the browser can make WebAuthn assertions; a payer without a passkey is told so.
      item.querySelector<HTMLButtonElement>('button[data-action="passkey"]')!.hidden = !passkeysUsable();
      challengeList.append(item);
    }
    const secondsLeft = Math.max(0, Math.floor((Date.parse(challenge.expiresAt) - nowMs) / 1000));
    item.querySelector('.expires')!.textContent =
      `${Math.floor(secondsLeft / 60)}:${String(secondsLeft % 60).padStart(2, '0')}`;
  }
  element('pending-empty').hidden = challenges.size > 0;
}

/** Keeps the stream open while unlocked, reconnecting after a pause when it ends. */
async function listen(): Promise<void> {
  streamAbort?.abort();
  const abort = new AbortController();
  streamAbort = abort;
  while (!abort.signal.aborted && api !== undefined) {
    try {
      setConnection('Connected: payments to approve appear here as they come.');
      await api.stream((event) => {
        if (event.type === 'challenge') challenges.set(event.challenge.paymentId, event.challenge);
        else if (event.type === 'closed') challenges.delete(event.paymentId);
        else say('error', messages['terminal_revoked']!);
        renderChallenges();
      }, abort.signal);
    } catch (error) {
      if (abort.signal.aborted) return;
      if (error instanceof PlatformRefusal) {
        say('error', explain(error));
        setConnection('Not connected.');
        return;
      }
    }
    if (abort.signal.aborted) return;
    setConnection('Reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, limits.terminalStreamRetryMs));
  }
}

async function unlockWith(record: StoredTerminal, verificationCode: string): Promise<void> {
  const secrets = await openSecrets(record, verificationCode);
  const signingKey = await importPrivateKey(base64urlToBytes(secrets.signingKeyPkcs8));
  api = new TerminalApiClient(signedRequests, record.terminalId, signingKey);
  challenges.clear();
  renderChallenges();
  show('pending', 'offline', 'manage');
  void listen();
  void showPayerLock();
}

/** Shows whether the payer id is locked (and until when), with the form that unlocks it from here. */
async function showPayerLock(): Promise<void> {
  if (api === undefined) return;
  const state = await api.request('GET', '/v1/terminal/lock').catch(() => undefined);
  const section = element('payer-lock');
  if (state === undefined || state['locked'] !== true) {
    section.hidden = true;
    return;
  }
  const until = typeof state['lockedUntil'] === 'string' ? new Date(state['lockedUntil']) : undefined;
  element('payer-lock-state').textContent =
    until === undefined
      ? 'The operator blocked your payer id: only the operator can unlock it.'
      : `Signing in and approving are locked until ${until.toLocaleString()}. Unlock it now with your verification code.`;
  element('payer-unlock-form').hidden = state['blocked'] === true;
  section.hidden = false;
}

async function unlockPayer(verificationCode: string): Promise<void> {
  if (api === undefined) return;
  await api.request('POST', '/v1/terminal/unlock', { verificationCode });
  element('payer-lock').hidden = true;
  say('notice', 'Your payer id is unlocked.');
}

async function enroll(uriText: string, label: string, verificationCode: string): Promise<void> {
  const enrollment = parseEnrollmentUri(uriText);
  const platformUrl = document.body.dataset['platformUrl'] ?? location.origin;
  if (enrollment.platformUrl !== platformUrl.replace(/\/+$/, '')) {
    throw new EnrollmentUriError(`it is for another platform (${enrollment.platformUrl})`);
  }
  const { identity, secrets } = await enrollTerminal(
    signedRequests,
    enrollment,
    verificationCode,
    label === '' ? undefined : label,
  );
  stored = await saveTerminal(identity, secrets, verificationCode);
  say(
    'notice',
    'This browser is now your second terminal. Its keys are stored encrypted under your verification code.',
  );
  await unlockWith(stored, verificationCode);
}

/** The second code for a first code, with the keys opened by the code just typed (checked locally first). */
async function secondCodeFor(firstCode: string, verificationCode: string): Promise<string> {
  if (stored === undefined) throw new Error('no terminal');
  const secrets = await openSecrets(stored, verificationCode);
  return computeOcra({
    suite: stored.suite,
    key: hexToBytes(secrets.ocraKeyHex),
    question: firstCode,
    pin: verificationCode,
  });
}

let confirming: { challenge: Challenge; send: boolean } | undefined;

function openConfirm(challenge: Challenge, send: boolean): void {
  confirming = { challenge, send };
  element('confirm-title').textContent = send ? 'Approve this payment' : 'Show the second code';
  element('confirm-summary').textContent = `${describe(challenge)}.`;
  element('confirm-submit').textContent = send ? 'Approve' : 'Show code';
  element<HTMLInputElement>('confirm-code').value = '';
  element('second-code-box').hidden = true;
  element('confirm-form').hidden = false;
  confirmDialog.showModal();
}

async function confirm(verificationCode: string): Promise<void> {
  if (confirming === undefined || api === undefined) return;
  const { challenge, send } = confirming;
  const secondCode = await secondCodeFor(challenge.firstCode, verificationCode);
  if (!send) {
    element('second-code').textContent = secondCode;
    element('second-code-box').hidden = false;
    element('confirm-form').hidden = true;
    return;
  }
  const status = await api.approve(challenge.paymentId, secondCode);
  confirmDialog.close();
  challenges.delete(challenge.paymentId);
  renderChallenges();
  say('notice', status === 'succeeded' ? `Approved: ${describe(challenge)}.` : `The payment is ${status}.`);
}

/** What went wrong with a passkey approval: the platform's answer, or the browser's ceremony. */
function passkeyFailure(error: unknown): string {
  if (error instanceof PlatformRefusal) {
    if (error.code === 'approval_failed')
      return 'The passkey did not approve this payment. After three refused attempts the payment fails.';
    return explain(error);
  }
  return 'The passkey did not answer. Try again, or approve with the verification code.';
}

function passkeysUsable(): boolean {
  return webAuthnLibrary()?.browserSupportsWebAuthn() === true;
}

/**
 * Approves with one of the payer's passkeys instead of the OCRA code: the platform derives the challenge
 * from this payment, the browser signs it (in its own payment dialog where it has Secure Payment
 * Confirmation), the signed request carries the assertion. A refusal counts as a wrong code.
 */
async function approveWithPasskey(challenge: Challenge): Promise<void> {
  const webauthn = webAuthnLibrary();
  if (webauthn === undefined || api === undefined) return;
  const answer = await api.passkeyOptions(challenge.paymentId);
  const { response } = await signApproval(
    webauthn,
    answer['options'] as RequestOptions,
    answer['display'] as PaymentDisplay,
  );
  const status = await api.approveWithPasskey(challenge.paymentId, String(answer['challengeId']), response);
  challenges.delete(challenge.paymentId);
  renderChallenges();
  say('notice', status === 'succeeded' ? `Approved: ${describe(challenge)}.` : `The payment is ${status}.`);
}

/** The forms that take the verification code: enroll, unlock the payer id, unlock this terminal. */
function wireCodeForms(): void {
  element<HTMLFormElement>('enroll-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = element<HTMLInputElement>('enroll-code');
    const button = element<HTMLButtonElement>('enroll-submit');
    button.disabled = true;
    enroll(
      element<HTMLTextAreaElement>('enroll-uri').value,
      element<HTMLInputElement>('enroll-label').value.trim(),
      code.value,
    )
      .catch((error: unknown) => say('error', explain(error)))
      .finally(() => {
        code.value = '';
        button.disabled = false;
      });
  });
  element<HTMLFormElement>('payer-unlock-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = element<HTMLInputElement>('payer-unlock-code');
    const button = element<HTMLButtonElement>('payer-unlock-submit');
    button.disabled = true;
    unlockPayer(code.value)
      .catch(async (error: unknown) => {
        say('error', explain(error));
        await showPayerLock();
      })
      .finally(() => {
        code.value = '';
        button.disabled = false;
      });
  });
  element<HTMLFormElement>('unlock-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = element<HTMLInputElement>('unlock-code');
    if (stored === undefined) return;
    unlockWith(stored, code.value)
      .then(() => {
        messageBox.hidden = true;
      })
      .catch((error: unknown) => say('error', explain(error)))
      .finally(() => {
        code.value = '';
      });
  });
}

/** Declines a payment at the platform and takes it off the list. */
function decline(challenge: Challenge): void {
  api
    ?.decline(challenge.paymentId)
    .then(() => {
      challenges.delete(challenge.paymentId);
      renderChallenges();
      say('notice', `Declined: ${describe(challenge)}.`);
    })
    .catch((error: unknown) => say('error', explain(error)));
}

/** The buttons of each pending payment: approve, approve with a passkey, show the code, decline. */
function wireChallengeList(): void {
  challengeList.addEventListener('click', (event) => {
    const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
    const item = button?.closest<HTMLLIElement>('li[data-payment-id]');
    const challenge = challenges.get(item?.dataset['paymentId'] ?? '');
    if (button === null || button === undefined || challenge === undefined || api === undefined) return;
    const action = button.dataset['action'];
    if (action === 'approve' || action === 'code') openConfirm(challenge, action === 'approve');
    if (action === 'passkey') {
      button.disabled = true;
      approveWithPasskey(challenge)
        .catch((error: unknown) => say('error', passkeyFailure(error)))
        .finally(() => {
          button.disabled = false;
        });
    }
    if (action === 'decline') decline(challenge);
  });
}

/** The forms that compute a second code: the confirmation dialog's and the offline one. */
function wireSecondCodeForms(): void {
  element<HTMLFormElement>('confirm-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const code = element<HTMLInputElement>('confirm-code');
    confirm(code.value)
      .catch((error: unknown) => {
        confirmDialog.close();
        say('error', explain(error));
      })
      .finally(() => {
        code.value = '';
      });
  });
  element('confirm-cancel').addEventListener('click', () => confirmDialog.close());
  element<HTMLFormElement>('offline-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const firstCode = element<HTMLInputElement>('offline-first-code').value.trim();
    const code = element<HTMLInputElement>('offline-code');
    secondCodeFor(firstCode, code.value)
      .then((secondCode) => {
        element('offline-second-code').textContent = secondCode;
        element('offline-result').hidden = false;
      })
      .catch((error: unknown) => say('error', explain(error)))
      .finally(() => {
        code.value = '';
      });
  });
}

/** Locking the page, removing the terminal, and the camera where the browser can read QR codes. */
function wireManagement(): void {
  element('lock').addEventListener('click', () => lock());
  element('forget').addEventListener('click', () => {
    const question =
      api === undefined
        ? 'Delete the keys of this terminal from this browser? Unlock first to revoke it at the platform as well.'
        : 'Remove this terminal? It is revoked at the platform and its keys are deleted from this browser.';
    if (!window.confirm(question)) return;
    const revoke = api?.revoke().catch(() => undefined) ?? Promise.resolve();
    void revoke.then(forgetTerminal).then(() => location.reload());
  });
  const scan = element<HTMLButtonElement>('scan');
  if ('BarcodeDetector' in window && navigator.mediaDevices !== undefined) {
    scan.hidden = false;
    scan.addEventListener('click', () => {
      startScanner(element<HTMLVideoElement>('scan-video'), (text) => {
        element<HTMLTextAreaElement>('enroll-uri').value = text;
      }).catch(() => say('error', 'The camera could not be used; paste the enrollment link instead.'));
    });
  }
}

/** Connects every control of the page to its action, and refreshes the countdowns every second. */
function wire(): void {
  wireCodeForms();
  wireChallengeList();
  wireSecondCodeForms();
  wireManagement();
  window.setInterval(renderChallenges, 1000);
}

function lock(): void {
  streamAbort?.abort();
  api = undefined;
  challenges.clear();
  renderChallenges();
  connection.hidden = true;
  element('locked-label').textContent = stored?.label ?? 'without a name';
  element('locked-payer').textContent = stored?.payerId ?? '';
  show('locked', 'offline', 'manage');
}

async function start(): Promise<void> {
  wire();
  const manifest = document.createElement('link');
  manifest.rel = 'manifest';
  manifest.href = '/terminal/manifest.webmanifest';
  document.head.append(manifest);
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker
      .register('/terminal/service-worker.js', { scope: '/terminal/', type: 'module' })
      .catch(() => undefined);
  }
  stored = await loadTerminal();
  if (stored === undefined) {
    show('enroll');
    return;
  }
  lock();
}

start().catch(() => say('error', 'This browser cannot keep a terminal (IndexedDB or WebCrypto is missing).'));
