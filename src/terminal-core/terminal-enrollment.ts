/**
 * Enrolling a second terminal, written once for the command line and the browser authenticator: the
 * device generates its P-256 key pair, proves the verification code with an OCRA confirmation code over
 * the enrollment's question, and redeems the enrollment, signed with the new key (docs/terminal.md,
 * "Enrollment"). What comes back is what the terminal's vault seals; storing it is the host's part.
 */
import {
  bytesToBase64url,
  enrollmentKeyId,
  exportPrivateKey,
  generateTerminalKeyPair,
} from '../domain/enrollment-credential.js';
import { type EnrollmentUri, enrollmentConfirmationQuestion } from '../domain/enrollment-uri.js';
import { hexToBytes } from '../domain/hex.js';
import { computeOcra } from '../domain/ocra.js';
import { jsonOf, type SignedRequests } from './terminal-api-client.js';
import type { TerminalIdentity, TerminalSecrets } from './terminal-vault.js';

/** How one host redeems: whether a stale refusal is retried, and its words for an unexplained refusal. */
export interface RedeemOptions {
  readonly retryWhenStale?: boolean;
  readonly unexplained?: string;
}

/**
 * Redeems an enrollment with a freshly generated key (signed under the enrollment's key id); returns the
 * new terminal's id and label, or throws PlatformRefusal.
 */
export async function redeemEnrollment(
  requests: SignedRequests,
  signingKey: CryptoKey,
  payload: { readonly enrollmentId: string } & Record<string, string>,
  options: RedeemOptions = {},
): Promise<{ id: string; label: string | null }> {
  const response = await requests.send({
    signingKey,
    keyId: enrollmentKeyId(payload.enrollmentId),
    method: 'POST',
    path: '/v1/terminals/enroll',
    body: JSON.stringify(payload),
    ...(options.retryWhenStale === undefined ? {} : { retryWhenStale: options.retryWhenStale }),
  });
  const answer = (await jsonOf(response)) as { terminal?: { id: string; label: string | null } };
  if (response.status !== 201 || answer.terminal === undefined) {
    throw requests.refusalOf(response.status, answer, options.unexplained);
  }
  return answer.terminal;
}

/**
 * Enrolls this device as the enrollment's terminal: a new key pair, the confirmation code from the
 * verification code, the enrollment redeemed. Returns the vault's clear part and its secrets, or throws
 * PlatformRefusal (e.g. `enrollment_confirmation_failed` for a wrong verification code).
 */
export async function enrollTerminal(
  requests: SignedRequests,
  enrollment: EnrollmentUri,
  verificationCode: string,
  label: string | undefined,
  options: RedeemOptions = {},
): Promise<{ identity: TerminalIdentity; secrets: TerminalSecrets }> {
  const pair = await generateTerminalKeyPair();
  const confirmationCode = await computeOcra({
    suite: enrollment.suite,
    key: hexToBytes(enrollment.keyHex),
    question: enrollmentConfirmationQuestion(enrollment.enrollmentId),
    pin: verificationCode,
  });
  const payload = {
    enrollmentId: enrollment.enrollmentId,
    secret: enrollment.secret,
    publicKey: pair.publicKeySpki,
    confirmationCode,
    ...(label === undefined ? {} : { label }),
  };
  const terminal = await redeemEnrollment(requests, pair.privateKey, payload, options);
  const identity: TerminalIdentity = {
    terminalId: terminal.id,
    payerId: enrollment.payerId,
    platformUrl: enrollment.platformUrl,
    suite: enrollment.suite,
    label: terminal.label,
  };
  const signingKeyPkcs8 = bytesToBase64url(await exportPrivateKey(pair.privateKey));
  return { identity, secrets: { ocraKeyHex: enrollment.keyHex, signingKeyPkcs8 } };
}
