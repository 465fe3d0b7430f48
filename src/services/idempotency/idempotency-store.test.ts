import { describe, expect, it } from 'vitest';
import { claimFirstOfEachKey, type IdempotencyClaim } from './idempotency-store.js';

function claim(scope: string, key: string): IdempotencyClaim {
  return { scope, key, requestHash: `hash:${scope}:${key}`, nowMs: 1_000, leaseMs: 30_000 };
}

describe('claimFirstOfEachKey', () => {
  it('inserts only the first claim of each key; later claims of it and taken keys do not hold it', async () => {
    const sent: IdempotencyClaim[][] = [];
    const claims = [
      claim('payer:a', 'k1'),
      undefined,
      claim('payer:a', 'k1'),
      claim('payer:a', 'k2'),
      claim('payer:b', 'k1'),
    ];
    const held = await claimFirstOfEachKey(claims, async (firsts) => {
      sent.push([...firsts]);
      // k2 was claimed before this batch: the statement inserts every other key.
      return firsts.map((c) => c.key !== 'k2');
    });
    expect(sent).toEqual([[claims[0], claims[3], claims[4]]]);
    expect(held).toEqual([true, undefined, false, false, true]);
  });

  it('does not confuse a scope and key pair with another whose concatenation is the same', async () => {
    const held = await claimFirstOfEachKey([claim('ab', 'c'), claim('a', 'bc')], async (firsts) =>
      firsts.map(() => true),
    );
    expect(held).toEqual([true, true]);
  });

  it('sends no statement when no entry carries a claim', async () => {
    let calls = 0;
    const held = await claimFirstOfEachKey([undefined, undefined], async () => {
      calls += 1;
      return [];
    });
    expect(calls).toBe(0);
    expect(held).toEqual([undefined, undefined]);
  });
});
