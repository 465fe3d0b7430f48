/**
 * Passkeys as second terminals (WebAuthn): registering one for a payer, and approving a payment with an
 * assertion over a challenge derived from that payment.
 *
 * The signature, origin, RP ID and user verification are checked by `@simplewebauthn/server` before the
 * payment is locked: that check needs no locked state and costs a signature verification, which should not
 * run while rows are held. Its verdict then goes to the payment executor as one more kind of approval,
 * where the attempt is reserved and the nonce's single use, the passkey's status and the counter's move are
 * decided on locked rows (`domain/passkey.ts`), in the transaction that posts the payment. A refused
 * assertion is a wrong second code: counted the same and answered the same (`approval_failed`).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  type AuthenticationExtensionsClientInputs,
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { COSEALG } from '@simplewebauthn/server/helpers';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { formatMoney } from '../../domain/money.js';
import { approvalChallengeText, type PasskeyAssertion } from '../../domain/passkey.js';
import type { Payment } from '../../domain/payment.js';
import type { SqlExecutor } from '../database.js';
import { newId } from '../ids.js';
import type { PaymentService } from '../payments/payment-service.js';
import type { TerminalDependencies } from '../terminals/terminal-dependencies.js';
import { passkeyTerminalView, type TerminalView } from '../terminals/terminal-service.js';
import type { PasskeyChallengeRecord, PasskeyRecord } from './passkey-store.js';

/** Who the passkeys are for: the RP ID (a host name) and the origin pages are served from. */
export interface RelyingParty {
  readonly id: string;
  readonly origin: string;
  readonly name: string;
}

/** The relying party of a deployment: from `PUBLIC_URL`, the RP ID overridable (`WEBAUTHN_RP_ID`). */
export function relyingPartyOf(publicUrl: string, rpId?: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: rpId ?? url.hostname, origin: url.origin, name: 'Countersign' };
}

/** The challenge of an approval: SHA-256 of the payment's binding text, base64url. */
export function approvalChallenge(
  payment: Pick<Payment, 'id' | 'amount' | 'currency' | 'payeeId'>,
  firstCodeHash: string,
  nonce: string,
): string {
  return createHash('sha256')
    .update(approvalChallengeText(payment, firstCodeHash, nonce), 'utf8')
    .digest('base64url');
}

/**
 * The signature algorithms a passkey may use, most preferred first: ES256 (every platform authenticator
 * and security key has it), Ed25519, RS256 (older Windows Hello). The list is fixed here rather than left
 * to the library, whose default depends on the Node.js running the server: where Web Crypto has ML-DSA
 * (Node.js 24), it offers ML-DSA-44 first. A passkey registered with it on Node.js 24 could not be verified
 * after a move back to Node.js 20, and its registration answer (a 1,312-byte public key, twice, plus its
 * key in SPKI form) is about 6,100 characters, so that Chromium's occasional extra client data member
 * pushed it past `limits.passkeyResponseBytesMax` and the registration was refused. One platform, one set
 * of algorithms, whatever runs it.
 */
export const passkeyAlgorithmIds: readonly number[] = Object.freeze([
  COSEALG.ES256,
  COSEALG.EdDSA,
  COSEALG.RS256,
]);

/** A ceremony's options for the browser, with the id of its server challenge. */
export interface PasskeyCeremony<Options> {
  readonly challengeId: string;
  readonly options: Options;
}

/**
 * What an approval's browser dialog shows where Secure Payment Confirmation is available: the payee and the
 * amount (minor units, with its currency), the same values the challenge binds.
 */
export interface PaymentDisplay {
  readonly payeeId: string;
  readonly payeeName: string;
  /** The amount in major units as `PaymentRequest` takes it, e.g. `"12.50"`. */
  readonly amount: string;
  readonly currency: string;
}

/**
 * Client data types an assertion may carry: `webauthn.get` from `navigator.credentials.get`, and
 * `payment.get` from a Secure Payment Confirmation dialog (the same signature over the same challenge).
 */
const assertionTypes = ['webauthn.get', 'payment.get'];

/** What the browser sends back after `navigator.credentials.get` (through `@simplewebauthn/browser`). */
export interface PasskeyApprovalInput {
  readonly challengeId: string;
  readonly response: AuthenticationResponseJSON;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const base64UrlPattern = /^[A-Za-z0-9_-]{16,1400}$/;

/** Use cases of passkeys. */
export class PasskeyService {
  constructor(
    private readonly deps: TerminalDependencies,
    private readonly payments: PaymentService,
    private readonly relyingParty: RelyingParty,
  ) {}

  /** Options to create a passkey for `payerId`: user verification required, a discoverable key preferred. */
  async registrationOptions(
    payerId: string,
  ): Promise<PasskeyCeremony<PublicKeyCredentialCreationOptionsJSON>> {
    const existing = await this.deps.passkeyStore.listPasskeys(
      this.deps.database,
      payerId,
      limits.terminalsPerPayerMax * 10,
    );
    const challenge = await this.issueChallenge(payerId, null);
    const options = await generateRegistrationOptions({
      rpName: this.relyingParty.name,
      rpID: this.relyingParty.id,
      userName: payerId,
      // A stable handle that is not the payer id itself (WebAuthn advises against personal data there).
      userID: createHash('sha256').update(`countersign-user:${payerId}`, 'utf8').digest(),
      challenge: Buffer.from(challenge.nonce, 'base64url'),
      timeout: limits.passkeyChallengeTtlSeconds * 1000,
      attestationType: 'none',
      excludeCredentials: existing
        .filter((passkey) => passkey.status === 'active')
        .map((passkey) => ({ id: passkey.credentialId })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: [...passkeyAlgorithmIds],
      // Lets browsers with Secure Payment Confirmation use the passkey in their payment dialog.
      extensions: { payment: { isPayment: true } } as AuthenticationExtensionsClientInputs,
    });
    return { challengeId: challenge.id, options };
  }

  /**
   * Verifies a registration and stores the passkey: credential id, public key, counter, AAGUID. Refused
   * (`passkey_registration_failed`) without saying why; `terminal_limit_reached` past the payer's limit.
   */
  async register(
    payerId: string,
    input: {
      readonly challengeId: string;
      readonly response: RegistrationResponseJSON;
      readonly label?: string;
    },
  ): Promise<TerminalView> {
    const { database, clock, passkeyStore } = this.deps;
    const challenge = await database.transaction((tx) =>
      this.consumeChallenge(tx, payerId, input.challengeId, 'registration'),
    );
    if (challenge === undefined) throw new CountersignError('passkey_registration_failed');
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response: input.response,
        expectedChallenge: challenge.nonce,
        expectedOrigin: this.relyingParty.origin,
        expectedRPID: this.relyingParty.id,
        requireUserVerification: true,
        // The same list the options offered: a key of any other algorithm is refused.
        supportedAlgorithmIDs: [...passkeyAlgorithmIds],
      });
    } catch {
      throw new CountersignError('passkey_registration_failed');
    }
    if (!verified.verified) throw new CountersignError('passkey_registration_failed');
    const { credential, aaguid } = verified.registrationInfo;
    return database.transaction(async (tx) => {
      const nowMs = clock.nowMs();
      await this.lockPayer(tx, payerId);
      await this.assertTerminalRoom(tx, payerId, nowMs);
      if ((await passkeyStore.selectPasskeyByCredential(tx, credential.id)) !== undefined)
        throw new CountersignError('passkey_registration_failed');
      const passkey: PasskeyRecord = {
        id: newId(),
        payerId,
        credentialId: credential.id,
        publicKey: Buffer.from(credential.publicKey).toString('base64url'),
        signCount: credential.counter,
        aaguid,
        transports: (credential.transports ?? []).join(','),
        label: input.label ?? null,
        status: 'active',
        createdAtMs: nowMs,
        lastUsedAtMs: null,
        revokedAtMs: null,
      };
      await passkeyStore.insertPasskey(tx, passkey);
      await this.deps.audit.appendIn(
        tx,
        [{ event: 'passkey_registered', subject: payerId, detail: { passkeyId: passkey.id, aaguid } }],
        nowMs,
      );
      return passkeyTerminalView(passkey);
    });
  }

  /**
   * Options to approve `paymentId` with a passkey: the challenge binds the payment (id, first code, amount,
   * currency, payee) and a fresh nonce. `payment_not_found` for a payment of another payer;
   * `payment_not_approvable` when it no longer waits for approval.
   */
  async approvalOptions(
    payerId: string,
    paymentId: string,
  ): Promise<PasskeyCeremony<PublicKeyCredentialRequestOptionsJSON> & { display: PaymentDisplay }> {
    const { database, passkeyStore, paymentStore, clock, partyStore } = this.deps;
    if (!uuidPattern.test(paymentId)) throw new CountersignError('payment_not_found');
    const payment = await paymentStore.selectPayment(database, paymentId, false);
    if (payment === undefined || payment.payerId !== payerId) throw new CountersignError('payment_not_found');
    if (payment.status !== 'requires_approval' || clock.nowMs() >= payment.expiresAtMs)
      throw new CountersignError('payment_not_approvable', { details: { status: payment.status } });
    const firstCodeHash = await passkeyStore.selectFirstCodeHash(database, paymentId);
    if (firstCodeHash === undefined) throw new Error(`invariant: payment ${paymentId} has no first code`);
    const passkeys = await passkeyStore.listPasskeys(database, payerId, limits.terminalsPerPayerMax * 10);
    const challenge = await this.issueChallenge(payerId, paymentId);
    const options = await generateAuthenticationOptions({
      rpID: this.relyingParty.id,
      challenge: Buffer.from(approvalChallenge(payment, firstCodeHash, challenge.nonce), 'base64url'),
      timeout: limits.passkeyChallengeTtlSeconds * 1000,
      userVerification: 'required',
      allowCredentials: passkeys
        .filter((passkey) => passkey.status === 'active')
        .map((passkey) => ({ id: passkey.credentialId, ...transportsOf(passkey) })),
    });
    const payee = await partyStore.selectPayee(database, payment.payeeId);
    const display: PaymentDisplay = {
      payeeId: payment.payeeId,
      payeeName: payee?.name ?? payment.payeeId,
      amount: formatMoney(payment.amount, payment.currency).split(' ')[0]!,
      currency: payment.currency,
    };
    return { challengeId: challenge.id, options, display };
  }

  /**
   * Approves a payment with an assertion. Whatever is wrong with it — signature, origin, user verification,
   * a challenge of another payment or of other amounts, a replay, a revoked passkey, a counter that did not
   * move — the answer is `approval_failed`, counted like any wrong second code.
   */
  async approve(paymentId: string, input: PasskeyApprovalInput): Promise<Payment> {
    if (!uuidPattern.test(paymentId)) throw new CountersignError('payment_not_found');
    return this.payments.approve(paymentId, { passkey: await this.assertionOf(paymentId, input) });
  }

  /**
   * Approves for a terminal of `payerId` (the browser authenticator at `/terminal/`): as `approve`, but a
   * payment of another payer is `payment_not_found`, as on every terminal endpoint.
   */
  async approveForPayer(payerId: string, paymentId: string, input: PasskeyApprovalInput): Promise<Payment> {
    if (!uuidPattern.test(paymentId)) throw new CountersignError('payment_not_found');
    const payment = await this.deps.paymentStore.selectPayment(this.deps.database, paymentId, false);
    if (payment === undefined || payment.payerId !== payerId) throw new CountersignError('payment_not_found');
    return this.approve(paymentId, input);
  }

  /** The verdict of the library on an assertion, as the executor's approval; never throws for a bad one. */
  private async assertionOf(paymentId: string, input: PasskeyApprovalInput): Promise<PasskeyAssertion> {
    const { database, passkeyStore, paymentStore } = this.deps;
    const credentialId = typeof input.response?.id === 'string' ? input.response.id : '';
    const refused: PasskeyAssertion = {
      challengeId: uuidPattern.test(input.challengeId)
        ? input.challengeId
        : '00000000-0000-0000-0000-000000000000',
      credentialId: base64UrlPattern.test(credentialId) ? credentialId : '',
      signCount: 0,
      signatureValid: false,
    };
    if (refused.credentialId === '' || !uuidPattern.test(input.challengeId)) return refused;
    const [challenge, passkey, payment, firstCodeHash] = await Promise.all([
      passkeyStore.selectChallenge(database, input.challengeId, false),
      passkeyStore.selectPasskeyByCredential(database, credentialId),
      paymentStore.selectPayment(database, paymentId, false),
      passkeyStore.selectFirstCodeHash(database, paymentId),
    ]);
    if (
      challenge === undefined ||
      passkey === undefined ||
      payment === undefined ||
      firstCodeHash === undefined
    )
      return refused;
    // The expected challenge comes from the payment named in the path and the nonce's own row: an assertion
    // made for another payment, or for other amounts, signed another challenge and fails here.
    const expectedChallenge = approvalChallenge(payment, firstCodeHash, challenge.nonce);
    try {
      const verified = await verifyAuthenticationResponse({
        response: input.response,
        expectedChallenge,
        expectedOrigin: this.relyingParty.origin,
        expectedRPID: this.relyingParty.id,
        expectedType: assertionTypes,
        requireUserVerification: true,
        credential: {
          id: passkey.credentialId,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: passkey.signCount,
        },
      });
      return {
        ...refused,
        signCount: verified.authenticationInfo.newCounter,
        signatureValid: verified.verified && verified.authenticationInfo.userVerified,
      };
    } catch {
      return refused;
    }
  }

  /** A new single-use nonce for `payerId`, within the payer's bound of open ceremonies. */
  private async issueChallenge(payerId: string, paymentId: string | null): Promise<PasskeyChallengeRecord> {
    const { database, clock, passkeyStore } = this.deps;
    return database.transaction(async (tx) => {
      const nowMs = clock.nowMs();
      await this.lockPayer(tx, payerId);
      await passkeyStore.deleteExpiredChallenges(tx, payerId, nowMs, limits.passkeyChallengesOpenPerPayerMax);
      if (
        (await passkeyStore.countOpenChallenges(tx, payerId, nowMs)) >=
        limits.passkeyChallengesOpenPerPayerMax
      )
        throw new CountersignError('passkey_challenge_limit_reached');
      const challenge: PasskeyChallengeRecord = {
        id: newId(),
        payerId,
        purpose: paymentId === null ? 'registration' : 'approval',
        paymentId,
        nonce: randomBytes(32).toString('base64url'),
        createdAtMs: nowMs,
        expiresAtMs: nowMs + limits.passkeyChallengeTtlSeconds * 1000,
        usedAtMs: null,
      };
      await passkeyStore.insertChallenge(tx, challenge);
      return challenge;
    });
  }

  /** Uses up a registration challenge of `payerId`; undefined when it is unknown, used, expired or another's. */
  private async consumeChallenge(
    tx: SqlExecutor,
    payerId: string,
    challengeId: string,
    purpose: 'registration',
  ): Promise<PasskeyChallengeRecord | undefined> {
    if (!uuidPattern.test(challengeId)) return undefined;
    const nowMs = this.deps.clock.nowMs();
    const challenge = await this.deps.passkeyStore.selectChallenge(tx, challengeId, true);
    if (
      challenge === undefined ||
      challenge.payerId !== payerId ||
      challenge.purpose !== purpose ||
      challenge.usedAtMs !== null ||
      nowMs >= challenge.expiresAtMs
    )
      return undefined;
    await this.deps.passkeyStore.markChallengesUsed(tx, [challenge.id], nowMs);
    return challenge;
  }

  private async lockPayer(tx: SqlExecutor, payerId: string): Promise<void> {
    if (!(await this.deps.terminalStore.lockPayer(tx, payerId)))
      throw new CountersignError('payer_not_found');
  }

  /** The one limit of terminals: active ones of both kinds and open enrollments (see the enrollment service). */
  private async assertTerminalRoom(tx: SqlExecutor, payerId: string, nowMs: number): Promise<void> {
    const { terminalStore } = this.deps;
    const [open, active] = await Promise.all([
      terminalStore.countOpenEnrollments(tx, payerId, nowMs),
      terminalStore.countActiveTerminals(tx, payerId),
    ]);
    if (open + active >= limits.terminalsPerPayerMax) throw new CountersignError('terminal_limit_reached');
  }
}

function transportsOf(passkey: PasskeyRecord): { transports?: string[] } {
  return passkey.transports === '' ? {} : { transports: passkey.transports.split(',') };
}
