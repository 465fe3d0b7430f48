// Proves that passkeys use one fixed set of signature algorithms whatever Node.js runs the server (Node.js 24's Web Crypto would have made the library offer ML-DSA-44 first), that a registration answer carrying the client data member Chromium adds at random is accepted, that a key of another algorithm is refused and stores nothing, and that an answer of the software authenticator approves a payment.
import { COSEALG, decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/domain/errors.js';
import { limits } from '../../src/domain/limits.js';
import { passkeyAlgorithmIds } from '../../src/services/passkeys/passkey-service.js';
import { createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { SoftwareAuthenticator } from '../support/software-authenticator.js';

const origin = 'http://localhost:8080';

describe.each(testEngines())('passkey algorithms on %s', (engine) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { publicUrl: origin });
    await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Shop');
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  const storedKeys = async () =>
    platform.test.database.query<{ credential_id: string; public_key: string }>(
      'SELECT credential_id, public_key FROM passkeys ORDER BY created_at_ms',
    );

  it('offers ES256, Ed25519 and RS256, in that order, and nothing else', async () => {
    const { options } = await platform.services.passkeys.registrationOptions('alice');
    expect(options.pubKeyCredParams).toEqual(
      [COSEALG.ES256, COSEALG.EdDSA, COSEALG.RS256].map((alg) => ({ alg, type: 'public-key' })),
    );
    expect(passkeyAlgorithmIds).toEqual([-7, -8, -257]);
  });

  it('accepts a registration whose client data carries an extra member, as Chromium adds at random', async () => {
    const authenticator = new SoftwareAuthenticator(origin);
    const { challengeId, options } = await platform.services.passkeys.registrationOptions('alice');
    const response = authenticator.register(options, { extraMember: true });
    // The answer travels in a page form: it must fit the bound with room to spare.
    expect(JSON.stringify(response).length).toBeLessThan(limits.passkeyResponseBytesMax / 2);
    const terminal = await platform.services.passkeys.register('alice', { challengeId, response });
    expect(terminal.kind).toBe('passkey');
    const stored = (await storedKeys()).find((row) => row.credential_id === authenticator.id);
    const key = decodeCredentialPublicKey(Buffer.from(stored!.public_key, 'base64url'));
    expect(key.get(3)).toBe(COSEALG.ES256);
  });

  it('refuses a key of an algorithm outside the list (ES384), and stores nothing', async () => {
    const before = await storedKeys();
    const authenticator = new SoftwareAuthenticator(origin, 'ES384');
    const { challengeId, options } = await platform.services.passkeys.registrationOptions('alice');
    const error = await platform.services.passkeys
      .register('alice', { challengeId, response: authenticator.register(options) })
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(error).toBeInstanceOf(CountersignError);
    expect((error as CountersignError).code).toBe('passkey_registration_failed');
    expect(await storedKeys()).toEqual(before);
  });

  it('approves a payment with an assertion of the software authenticator', async () => {
    const authenticator = new SoftwareAuthenticator(origin);
    const registration = await platform.services.passkeys.registrationOptions('alice');
    await platform.services.passkeys.register('alice', {
      challengeId: registration.challengeId,
      response: authenticator.register(registration.options),
    });
    const { payment } = await platform.services.payments.create({
      payerId: 'alice',
      payeeId: 'shop',
      amount: 250n,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    });
    const { challengeId, options } = await platform.services.passkeys.approvalOptions('alice', payment.id);
    const approved = await platform.services.passkeys.approve(payment.id, {
      challengeId,
      response: authenticator.assert(options, { extraMember: true }),
    });
    expect(approved.status).toBe('succeeded');
  });
});
