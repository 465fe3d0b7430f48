// Proves on both engines that guessing passwords and second codes, from one or many addresses against one or many payers, never gets more guesses evaluated than the attempt limits allow over time (5 per window, windows apart by locks that double up to a day, so the success probability stays within the bound computed here), that locks and rate limits engage with 423/429 and Retry-After, and that other payers keep paying meanwhile.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalFailuresBeforePaymentFails } from '../../src/domain/attempts.js';
import { call, createFundedPayer, createPayee, secondCodeFor, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

/** The platform's limits, as the bound is computed from them. */
const failuresBeforeLock = 5;
const lockMs = 900 * 1000;
const lockMsMax = 24 * 3600 * 1000;
/** How long the attacker below keeps guessing, in the platform's (manual) time. */
const horizonMs = 3 * 24 * 3600 * 1000;

/**
 * The most guesses of one payer id that can be evaluated within `horizonMs`: 5 per window, the windows
 * apart by the locks they end in, each twice as long as the one before, capped at a day.
 */
function guessesEvaluatedWithin(horizon: number): number {
  let elapsedMs = 0;
  let guesses = 0;
  for (let locks = 0; ; locks++) {
    guesses += failuresBeforeLock;
    elapsedMs += Math.min(lockMs * 2 ** locks, lockMsMax);
    if (elapsedMs > horizon) return guesses;
  }
}
/** 45: windows start at 0, 15 min, 45 min, 1 h 45, 3 h 45, 7 h 45, 15 h 45, 1 d 7 h 45, 2 d 7 h 45. */
const guessesEvaluatedMax = guessesEvaluatedWithin(horizonMs);
/** Probability that one guessed 8-digit second code is right. */
const secondCodeGuessProbability = 1e-8;

type Outcome = 'evaluated' | 'locked' | 'rate_limited' | 'success' | 'other';

function outcomeOf(statusCode: number, body: string): Outcome {
  if (statusCode === 200 || statusCode === 201) return 'success';
  const code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  if (code === 'authentication_failed' || code === 'approval_failed') return 'evaluated';
  if (code === 'payer_locked') return 'locked';
  if (code === 'rate_limited') return 'rate_limited';
  return 'other';
}

async function guessPassword(app: FastifyInstance, payerId: string, password: string, address: string) {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/sessions',
    remoteAddress: address,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ payerId, password }),
  });
  return outcomeOf(response.statusCode, response.body);
}

async function pay(app: FastifyInstance, payer: TestPayer, amount = 100, address = '192.0.2.10') {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/payments',
    remoteAddress: address,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      payerId: payer.id,
      password: payer.password,
      payeeId: 'shop',
      amount,
      currency: 'EUR',
      deliverTo: 'first_terminal',
    }),
  });
  return response;
}

/** A legitimate payer pays end to end: the service is still up for everyone else. */
async function paysEndToEnd(app: FastifyInstance, payer: TestPayer): Promise<void> {
  const created = await pay(app, payer);
  expect(created.statusCode, created.body).toBe(201);
  const payment = created.json() as { id: string; firstCode: string };
  const secondCode = await secondCodeFor(payer, payment.firstCode);
  const approved = await call(app, 'POST', `/v1/payments/${payment.id}/approve`, { secondCode });
  expect(approved.statusCode, approved.body).toBe(200);
}

/**
 * Guesses a dictionary in order for `horizonMs`, like a patient attacker: each lock is waited out to the
 * second its answer names (Retry-After), and the refused guess is tried again.
 */
async function patientDictionaryAttack(
  platform: TestPlatform,
  payerId: string,
  dictionary: readonly string[],
  addressOf: (guess: number) => string,
) {
  const tally: Record<Outcome, number> = { evaluated: 0, locked: 0, rate_limited: 0, success: 0, other: 0 };
  const startMs = platform.clock.nowMs();
  let index = 0;
  while (index < dictionary.length && platform.clock.nowMs() - startMs <= horizonMs) {
    const response = await platform.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      remoteAddress: addressOf(index),
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ payerId, password: dictionary[index] }),
    });
    const outcome = outcomeOf(response.statusCode, response.body);
    tally[outcome] += 1;
    if (outcome === 'success') break;
    if (outcome === 'locked') {
      platform.clock.advance(Number(response.headers['retry-after']) * 1000);
      continue;
    }
    index += 1;
  }
  return tally;
}

describe.each(testEngines())('brute force on %s', (engine) => {
  let platform: TestPlatform;
  let bystander: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    await createPayee(platform.app, platform.operatorToken, 'shop');
    bystander = await createFundedPayer(platform.app, platform.operatorToken, 'bystander', 100_000);
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  const dictionary = (size: number, truthAt: number, truth: string) =>
    Array.from({ length: size }, (_unused, index) => (index === truthAt ? truth : `guess-${index}-wrong`));

  it('evaluates at most 5 password guesses per window from one address, the windows ever further apart', async () => {
    const victim = await createFundedPayer(platform.app, platform.operatorToken, 'victim-one');
    // The attacker's dictionary holds the password, at a position past what the limits let through.
    const candidates = dictionary(60, guessesEvaluatedMax + 5, victim.password);
    const tally = await patientDictionaryAttack(platform, victim.id, candidates, () => '198.51.100.7');
    // Bound: with D equally likely candidates, P(success within 3 days) <= 45 / D, whatever the order of
    // guessing; after the cap, 5 more per day (about 1,850 a year).
    expect(guessesEvaluatedMax).toBe(45);
    expect(tally.evaluated).toBe(guessesEvaluatedMax);
    expect(tally.success).toBe(0);
    expect(tally.locked).toBe(guessesEvaluatedMax / failuresBeforeLock);
    // Never locked for good: once the last lock has been waited out, the payer signs in.
    expect(await guessPassword(platform.app, victim.id, victim.password, '198.51.100.7')).toBe('success');
    await paysEndToEnd(platform.app, bystander);
  });

  it('gets the same evaluated guesses when they come from many addresses', async () => {
    const victim = await createFundedPayer(platform.app, platform.operatorToken, 'victim-many');
    const candidates = dictionary(60, 50, victim.password);
    const tally = await patientDictionaryAttack(
      platform,
      victim.id,
      candidates,
      (guess) => `203.0.113.${guess + 1}`,
    );
    expect(tally.evaluated).toBe(guessesEvaluatedMax);
    expect(tally.success).toBe(0);
    await paysEndToEnd(platform.app, bystander);
  });

  it('lets the right guess through before the limit, so the bound is the limit and not luck', async () => {
    const victim = await createFundedPayer(platform.app, platform.operatorToken, 'victim-early');
    const tally = await patientDictionaryAttack(
      platform,
      victim.id,
      dictionary(40, 3, victim.password),
      () => '198.51.100.8',
    );
    expect(tally).toMatchObject({ evaluated: 3, success: 1 });
  });

  it('spreads a credential-stuffing run over many payers without more than one guess each', async () => {
    const payers = await Promise.all(
      Array.from({ length: 8 }, (_unused, index) =>
        createFundedPayer(platform.app, platform.operatorToken, `stuffed-${index}`, 1000),
      ),
    );
    let evaluated = 0;
    let successes = 0;
    for (const [index, payer] of payers.entries()) {
      for (const common of ['123456', 'password', 'qwerty']) {
        const outcome = await guessPassword(platform.app, payer.id, common, `192.0.2.${100 + index}`);
        if (outcome === 'evaluated') evaluated += 1;
        if (outcome === 'success') successes += 1;
      }
    }
    // Each payer had 3 guesses evaluated (fewer than a lock needs), none of them right.
    expect(evaluated).toBe(payers.length * 3);
    expect(successes).toBe(0);
    expect(evaluated / payers.length).toBeLessThanOrEqual(guessesEvaluatedMax);
  });

  /** Guesses `perPayment` wrong codes on each payment; a wrong code is never the right one. */
  async function guessCodes(
    payments: readonly { id: string; right: string }[],
    perPayment: number,
    tally: Record<Outcome, number>,
  ) {
    for (const { id, right } of payments) {
      for (let guess = 0; guess < perPayment; guess++) {
        const code = String((Number(right) + 1 + guess * 7919) % 100_000_000).padStart(8, '0');
        const response = await call(platform.app, 'POST', `/v1/payments/${id}/approve`, { secondCode: code });
        tally[outcomeOf(response.statusCode, response.body)] += 1;
      }
    }
  }

  async function openPayment(payer: TestPayer) {
    const created = await pay(platform.app, payer);
    expect(created.statusCode, created.body).toBe(201);
    const { id, firstCode } = created.json() as { id: string; firstCode: string };
    return { id, right: await secondCodeFor(payer, firstCode) };
  }

  const newTally = (): Record<Outcome, number> => ({
    evaluated: 0,
    locked: 0,
    rate_limited: 0,
    success: 0,
    other: 0,
  });

  it('bounds second-code guesses on open payments by the payer lock: 5 evaluated, P(success) <= 5e-8', async () => {
    const victim = await createFundedPayer(platform.app, platform.operatorToken, 'victim-open', 100_000);
    const payments = [];
    for (let index = 0; index < 4; index++) payments.push(await openPayment(victim));
    const tally = newTally();
    // The attacker knows every payment id (a merchant does) and tries four codes on each.
    await guessCodes(payments, approvalFailuresBeforePaymentFails + 1, tally);
    expect(tally.evaluated).toBe(failuresBeforeLock);
    expect(tally.success).toBe(0);
    expect(tally.locked).toBeGreaterThan(0);
    expect(tally.evaluated * secondCodeGuessProbability).toBeLessThanOrEqual(5e-8);
    await paysEndToEnd(platform.app, bystander);
  });

  it('bounds second-code guesses by 3 per payment when the payer keeps paying: P <= 3e-8 per payment', async () => {
    const victim = await createFundedPayer(platform.app, platform.operatorToken, 'victim-codes', 100_000);
    const balance = async () =>
      (
        await call(platform.app, 'GET', `/v1/payers/${victim.id}/balance?currency=EUR`, undefined, {
          token: platform.operatorToken,
        })
      ).json() as { available: number; held: number };
    const before = await balance();
    const tally = newTally();
    // Each payment the payer makes (a success that restarts the consecutive count) gives the attacker at
    // most 3 evaluated guesses, after which that payment fails: the first code is bound to it alone.
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const payment = await openPayment(victim);
      await guessCodes([payment], approvalFailuresBeforePaymentFails + 1, tally);
      const status = await call(platform.app, 'GET', `/v1/payments/${payment.id}`, undefined, {
        token: platform.operatorToken,
      });
      expect(status.json().status).toBe('failed');
    }
    expect(tally.evaluated).toBe(rounds * approvalFailuresBeforePaymentFails);
    expect(tally.other).toBe(rounds);
    expect(tally.success).toBe(0);
    // Bound per payment 3 × 1e-8; over these rounds 18 × 1e-8 = 1.8e-7, and no success was observed.
    expect(tally.evaluated * secondCodeGuessProbability).toBeLessThanOrEqual(
      rounds * approvalFailuresBeforePaymentFails * secondCodeGuessProbability,
    );
    // Every failed payment released its hold: the attack cost the payer nothing.
    expect(await balance()).toEqual(before);
    await paysEndToEnd(platform.app, bystander);
  });
});

describe.each(testEngines())('rate limits on %s', (engine) => {
  let platform: TestPlatform;
  let payer: TestPayer;
  let other: TestPayer;

  beforeAll(async () => {
    platform = await startTestPlatform(engine, {
      rateLimitPerPayer: 4,
      httpLimits: { requestsPerWindowPerAddressMax: 12 },
    });
    await createPayee(platform.app, platform.operatorToken, 'shop');
    payer = await createFundedPayer(platform.app, platform.operatorToken, 'limited');
    other = await createFundedPayer(platform.app, platform.operatorToken, 'unlimited');
  });
  afterAll(async () => {
    await platform?.dispose();
  });

  it('answers 429 with Retry-After per address, and serves other addresses', async () => {
    const statuses: number[] = [];
    let last: { statusCode: number; headers: Record<string, unknown>; body: string } | undefined;
    for (let request = 0; request < 14; request++) {
      last = await platform.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '198.51.100.99' });
      statuses.push(last.statusCode);
    }
    expect(statuses.slice(0, 12).every((status) => status === 200)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(JSON.parse(last?.body ?? '{}').error.code).toBe('rate_limited');
    const elsewhere = await platform.app.inject({
      method: 'GET',
      url: '/healthz',
      remoteAddress: '198.51.100.98',
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('answers 429 with Retry-After per payer across addresses, without counting a failure', async () => {
    const outcomes: Outcome[] = [];
    for (let guess = 0; guess < 6; guess++) {
      outcomes.push(
        await guessPassword(platform.app, payer.id, `wrong-${guess}`, `203.0.113.${200 + guess}`),
      );
    }
    expect(outcomes).toEqual([
      'evaluated',
      'evaluated',
      'evaluated',
      'evaluated',
      'rate_limited',
      'rate_limited',
    ]);
    const refused = await platform.app.inject({
      method: 'POST',
      url: '/v1/sessions',
      remoteAddress: '203.0.113.250',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ payerId: payer.id, password: payer.password }),
    });
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Refused attempts were not counted: four failures, no lock.
    const [state] = await platform.test.database.query<{
      consecutive_failures: number;
      locked_until_ms: unknown;
    }>('SELECT consecutive_failures, locked_until_ms FROM authentication_failures WHERE subject = $1', [
      payer.id,
    ]);
    expect(state).toMatchObject({ consecutive_failures: 4, locked_until_ms: null });
    // Another payer is not slowed down, and the limited one is served again after the window.
    expect(await guessPassword(platform.app, other.id, other.password, '203.0.113.251')).toBe('success');
    platform.clock.advance(61_000);
    expect(await guessPassword(platform.app, payer.id, payer.password, '203.0.113.252')).toBe('success');
  });
});
