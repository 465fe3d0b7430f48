// Proves on both engines that an announcement reaches a listener only when its transaction commits, never after a rollback, with the payment ids intact across payloads; and that the relay coalesces a burst of announcements into few passes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../test/support/engines.js';
import { ChallengeRelay } from '../services/terminals/challenge-relay.js';
import { challengePayloads, sqlChallengeNotifications } from './challenge-notifications.js';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('challenge payloads', () => {
  it('splits ids into payloads under the byte bound, losing none', () => {
    const ids = Array.from(
      { length: 500 },
      (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    );
    const payloads = challengePayloads(ids, 1000);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(payload.length).toBeLessThanOrEqual(1000);
    expect(payloads.flatMap((payload) => payload.split(','))).toEqual(ids);
    expect(challengePayloads([])).toEqual([]);
  });
});

describe.each(testEngines())('challenge notifications on %s', (engine) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await openTestDatabase(engine);
  });
  afterAll(async () => {
    await test?.dispose();
  });

  it('delivers the ids of a committed transaction, and nothing of a rolled-back one', async () => {
    const notifications = sqlChallengeNotifications(test.database);
    const received: string[] = [];
    let listening = 0;
    const stop = await notifications.listen(
      (ids) => received.push(...ids),
      () => {
        listening += 1;
      },
    );
    expect(stop).toBeDefined();
    expect(listening).toBe(1);
    await expect(
      test.database.transaction(async (tx) => {
        await notifications.announceIn(tx, ['rolled-back']);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await test.database.transaction(async (tx) => {
      await notifications.announceIn(tx, ['p1', 'p2']);
      await settle(100);
      // Not before the commit.
      expect(received).toEqual([]);
    });
    for (let waited = 0; received.length < 2 && waited < 2000; waited += 20) await settle(20);
    expect(received).toEqual(['p1', 'p2']);
    await stop!();
  });
});

describe('the relay', () => {
  it('runs one pass at a time, and one more after a burst that arrived during it', async () => {
    let passes = 0;
    let release: () => void = () => {};
    const relay = new ChallengeRelay(
      { announceIn: async () => {}, listen: async () => undefined },
      () => {
        passes += 1;
        return new Promise<number>((resolve) => {
          release = () => resolve(0);
        });
      },
      () => {},
    );
    expect(await relay.start()).toBe(false);
    for (let index = 0; index < 10; index++) relay.request();
    expect(passes).toBe(1);
    release();
    await settle(10);
    expect(passes).toBe(2);
    release();
    await relay.stop();
    expect(passes).toBe(2);
  });
});
