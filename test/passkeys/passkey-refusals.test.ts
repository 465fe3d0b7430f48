// Proves that bad passkey requests get their stable error and change nothing: ceremonies for another payer's or a closed payment, past the bound of open challenges, with a malformed or unknown assertion (counted as a wrong code), and registrations without a valid challenge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountersignError } from '../../src/domain/errors.js';
import { limits } from '../../src/domain/limits.js';
import type { PasskeyApprovalInput } from '../../src/services/passkeys/passkey-service.js';
import { createFundedPayer, createPayee } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe.each(testEngines())('passkey refusals on %s', (engine) => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, { publicUrl: 'http://localhost:8080' });
    await createFundedPayer(platform.app, platform.operatorToken, 'alice', 100_000);
    await createFundedPayer(platform.app, platform.operatorToken, 'bob', 100_000);
    await createPayee(platform.app, platform.operatorToken, 'shop', 'Shop');
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  const pay = async (payerId: string) =>
    (
      await platform.services.payments.create({
        payerId,
        payeeId: 'shop',
        amount: 100n,
        currency: 'EUR',
        deliverTo: 'first_terminal',
      })
    ).payment;
  const challengeCount = async () =>
    Number(
      (await platform.test.database.query<{ n: bigint }>('SELECT count(*) AS n FROM passkey_challenges'))[0]!
        .n,
    );
  const refusalOf = async (promise: Promise<unknown>): Promise<CountersignError> => {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(CountersignError);
    return error as CountersignError;
  };

  it('answers payment_not_found for another payer’s payment or a malformed id, and issues no challenge', async () => {
    const payment = await pay('alice');
    const before = await challengeCount();
    expect((await refusalOf(platform.services.passkeys.approvalOptions('bob', payment.id))).code).toBe(
      'payment_not_found',
    );
    expect((await refusalOf(platform.services.passkeys.approvalOptions('alice', 'not-a-uuid'))).code).toBe(
      'payment_not_found',
    );
    expect(await challengeCount()).toBe(before);
  });

  it('answers payment_not_approvable for a closed payment, and issues no challenge', async () => {
    const payment = await pay('alice');
    await platform.services.payments.cancel(payment.id, 'alice');
    const before = await challengeCount();
    const error = await refusalOf(platform.services.passkeys.approvalOptions('alice', payment.id));
    expect(error.code).toBe('payment_not_approvable');
    expect(await challengeCount()).toBe(before);
  });

  it('counts a malformed or unknown assertion as a wrong code, answered approval_failed', async () => {
    const payment = await pay('alice');
    const inputs: PasskeyApprovalInput[] = [
      { challengeId: 'nope', response: {} as PasskeyApprovalInput['response'] },
      {
        challengeId: (await platform.services.passkeys.approvalOptions('alice', payment.id)).challengeId,
        response: {
          id: 'dW5rbm93bi1jcmVkZW50aWFs',
          rawId: 'dW5rbm93bi1jcmVkZW50aWFs',
        } as PasskeyApprovalInput['response'],
      },
    ];
    for (const [index, input] of inputs.entries()) {
      const error = await refusalOf(platform.services.passkeys.approve(payment.id, input));
      expect(error.code).toBe('approval_failed');
      expect((await platform.services.payments.get(payment.id)).failedApprovals).toBe(index + 1);
    }
  });

  it('refuses a registration with an unknown, foreign or already used challenge, and stores nothing', async () => {
    const response = {} as Parameters<typeof platform.services.passkeys.register>[1]['response'];
    const bobs = await platform.services.passkeys.registrationOptions('bob');
    for (const challengeId of ['00000000-0000-4000-8000-000000000000', bobs.challengeId, 'x']) {
      const error = await refusalOf(platform.services.passkeys.register('alice', { challengeId, response }));
      expect(error.code).toBe('passkey_registration_failed');
    }
    const own = await platform.services.passkeys.registrationOptions('alice');
    // A wrong answer uses the challenge up: the same challenge cannot be tried again.
    await refusalOf(platform.services.passkeys.register('alice', { challengeId: own.challengeId, response }));
    const used = await platform.test.database.query<{ used_at_ms: bigint | null }>(
      'SELECT used_at_ms FROM passkey_challenges WHERE id = $1',
      [own.challengeId],
    );
    expect(used[0]!.used_at_ms).not.toBeNull();
    const stored = await platform.test.database.query('SELECT id FROM passkeys');
    expect(stored).toHaveLength(0);
  });

  it('refuses a ceremony past the bound of open challenges, and inserts nothing', async () => {
    const payment = await pay('bob');
    const open = async () =>
      Number(
        (
          await platform.test.database.query<{ n: bigint }>(
            "SELECT count(*) AS n FROM passkey_challenges WHERE payer_id = 'bob' AND used_at_ms IS NULL",
          )
        )[0]!.n,
      );
    while ((await open()) < limits.passkeyChallengesOpenPerPayerMax) {
      await platform.services.passkeys.approvalOptions('bob', payment.id);
    }
    const error = await refusalOf(platform.services.passkeys.approvalOptions('bob', payment.id));
    expect(error.code).toBe('passkey_challenge_limit_reached');
    expect(error.status).toBe(429);
    expect(await open()).toBe(limits.passkeyChallengesOpenPerPayerMax);
    // Expired challenges no longer count: after their lifetime a new ceremony is allowed.
    platform.clock.advance(limits.passkeyChallengeTtlSeconds * 1000);
    await platform.services.passkeys.approvalOptions('bob', (await pay('bob')).id);
  });
});
