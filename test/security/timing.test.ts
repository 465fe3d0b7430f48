// Proves on both engines that a login with an unknown payer id costs the same work as a wrong password of a known payer (the password hash runs in both cases), by comparing medians of interleaved trials, and that the comparison is sharp enough to see a path that skips the hash.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFundedPayer, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

/** Trials per kind in one round; failures per known payer stay below the 5 that lock. */
const trialsPerRound = 24;
const failuresPerPayer = 4;
/** The medians of the two kinds must be within this ratio of each other. */
const ratioBand = [0.75, 1 / 0.75] as const;
/** A noisy neighbour can spoil one round; a real difference (no hash: ~20×) spoils every round. */
const roundsMax = 3;

async function timedLogin(app: FastifyInstance, payerId: string, password: string): Promise<number> {
  const started = process.hrtime.bigint();
  const response = await app.inject({
    method: 'POST',
    url: '/v1/sessions',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ payerId, password }),
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  if (response.statusCode !== 401 && response.statusCode !== 423) throw new Error(response.body);
  return elapsed;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

describe.each(testEngines())('login timing on %s', (engine) => {
  let platform: TestPlatform;
  const known: TestPayer[] = [];
  let locked: TestPayer;
  let round = 0;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    const payersNeeded = Math.ceil((trialsPerRound * roundsMax) / failuresPerPayer) + 1;
    for (let index = 0; index < payersNeeded; index++) {
      known.push(await createFundedPayer(platform.app, platform.operatorToken, `timed-${index}`, 1));
    }
    locked = await createFundedPayer(platform.app, platform.operatorToken, 'timed-locked', 1);
    for (let failure = 0; failure < 5; failure++) await timedLogin(platform.app, locked.id, 'wrong password');
    // Warm-up: the dummy hash, the statement caches and the JIT, outside the measured trials.
    for (let index = 0; index < 3; index++) await timedLogin(platform.app, `warm-up-${index}`, 'x');
  }, 240_000);
  afterAll(async () => {
    await platform?.dispose();
  });

  /** One round of interleaved trials: unknown id, wrong password, locked payer, in turn. */
  async function measureRound() {
    const unknown: number[] = [];
    const wrong: number[] = [];
    const lockedTimes: number[] = [];
    for (let trial = 0; trial < trialsPerRound; trial++) {
      const index = round * trialsPerRound + trial;
      const payer = known[Math.floor(index / failuresPerPayer)]!;
      unknown.push(await timedLogin(platform.app, `ghost-${round}-${trial}`, 'wrong password'));
      wrong.push(await timedLogin(platform.app, payer.id, 'wrong password'));
      lockedTimes.push(await timedLogin(platform.app, locked.id, 'wrong password'));
    }
    round += 1;
    return { unknown: median(unknown), wrong: median(wrong), locked: median(lockedTimes) };
  }

  it('costs the same for an unknown payer id as for a wrong password', async () => {
    const rounds = [];
    for (let attempt = 0; attempt < roundsMax; attempt++) {
      const medians = await measureRound();
      rounds.push(medians);
      const ratio = medians.unknown / medians.wrong;
      if (ratio >= ratioBand[0] && ratio <= ratioBand[1]) break;
    }
    const last = rounds[rounds.length - 1]!;
    const ratio = last.unknown / last.wrong;
    process.stdout.write(
      `[${engine}] login medians (ms): unknown id ${last.unknown.toFixed(1)}, wrong password ${last.wrong.toFixed(1)}, ` +
        `locked ${last.locked.toFixed(1)}; ratio ${ratio.toFixed(2)} after ${rounds.length} round(s)\n`,
    );
    expect(ratio).toBeGreaterThanOrEqual(ratioBand[0]);
    expect(ratio).toBeLessThanOrEqual(ratioBand[1]);
    // The same measurement sees a path that skips the hash (a locked payer is refused before it).
    expect(last.locked).toBeLessThan(last.wrong * 0.5);
  }, 240_000);
});
