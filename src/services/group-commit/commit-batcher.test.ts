// Proves group commit on both engines: concurrent inputs share transactions within the bounds, each caller is answered only after its commit, a failing input is isolated by bisection without failing its neighbours, and a broken invariant stops the process instead of being retried.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../../test/support/engines.js';
import { CountersignError } from '../../domain/errors.js';
import type { SqlExecutor } from '../database.js';
import {
  type BatchOperation,
  type BatchOutcome,
  CommitBatcher,
  type CommitBatcherOptions,
} from './commit-batcher.js';

const options: CommitBatcherOptions = {
  batchSizeMax: 10,
  lingerMs: 2,
  batchesInFlightMax: 1,
  queueLengthMax: 1000,
};

/** Inserts one row per input; an input below zero is refused, zero runs alone, and 13 breaks the batch. */
function insertOperation(alone: (value: number) => Promise<number>): BatchOperation<number, number> {
  return {
    async runMany(tx: SqlExecutor, inputs: readonly number[]) {
      const outcomes: BatchOutcome<number>[] = [];
      for (const value of inputs) {
        if (value === 13) throw new Error('a bug met by one input');
        if (value < 0) outcomes.push({ kind: 'failed', error: new CountersignError('invalid_request') });
        else if (value === 0) outcomes.push({ kind: 'alone' });
        else {
          await tx.query('INSERT INTO batcher_rows (value) VALUES ($1)', [value]);
          outcomes.push({ kind: 'done', value });
        }
      }
      return outcomes;
    },
    runAlone: alone,
  };
}

describe.each(testEngines())('group commit on %s', (engine) => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await openTestDatabase(engine);
    await test.database.query('CREATE TABLE batcher_rows (value integer NOT NULL)');
  });
  afterAll(async () => {
    await test.dispose();
  });
  beforeEach(async () => {
    await test.database.query('DELETE FROM batcher_rows');
  });

  const rows = async () =>
    (await test.database.query<{ value: number }>('SELECT value FROM batcher_rows ORDER BY value')).map(
      (row) => row.value,
    );

  it('commits concurrent inputs together, never more than the batch size at once', async () => {
    const batcher = new CommitBatcher(
      test.database,
      insertOperation(async () => -1),
      options,
    );
    const values = Array.from({ length: 35 }, (_, index) => index + 1).filter((value) => value !== 13);
    const answers = await Promise.all(values.map((value) => batcher.submit(value)));
    expect(answers).toEqual(values);
    expect(await rows()).toEqual(values);
    expect(batcher.stats.inputs).toBe(values.length);
    expect(batcher.stats.batchSizeLargest).toBeLessThanOrEqual(options.batchSizeMax);
    expect(batcher.stats.batches).toBeGreaterThanOrEqual(Math.ceil(values.length / options.batchSizeMax));
    expect(batcher.stats.batches).toBeLessThan(values.length);
  });

  it('counts per kind of input: a batch counts once for each kind it holds', async () => {
    const batcher = new CommitBatcher(
      test.database,
      insertOperation(async () => 100),
      { ...options, kindOf: (value: number) => (value % 2 === 0 ? 'even' : 'odd') },
    );
    // 0 runs alone (even); 13 breaks its batch, which rolls back and runs all its inputs alone.
    await Promise.all([1, 2, 3, 4, 0].map((value) => batcher.submit(value)));
    expect(batcher.statsByKind.get('even')).toEqual({
      batches: 1,
      inputs: 3,
      batchSizeLargest: 3,
      inputsAlone: 1,
      batchesRolledBack: 0,
    });
    expect(batcher.statsByKind.get('odd')).toEqual({
      batches: 1,
      inputs: 2,
      batchSizeLargest: 2,
      inputsAlone: 0,
      batchesRolledBack: 0,
    });
    // 13 breaks its batch: it rolls back and is split, [5, 13] then [6]; [5, 13] is split again, and 13
    // fails alone. Three batches rolled back ([5, 13, 6], [5, 13], [13]); no input ran through another path.
    const settled = await Promise.allSettled([5, 13, 6].map((value) => batcher.submit(value)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(batcher.statsByKind.get('odd')).toMatchObject({ batches: 2, inputs: 4, batchesRolledBack: 3 });
    expect(batcher.statsByKind.get('even')).toMatchObject({ batches: 2, inputs: 4, batchesRolledBack: 1 });
    expect(batcher.stats).toMatchObject({ batches: 2, inputs: 8, inputsAlone: 1, batchesRolledBack: 3 });
  });

  it('answers a caller only once the transaction holding its input has committed', async () => {
    const batcher = new CommitBatcher(
      test.database,
      insertOperation(async () => -1),
      options,
    );
    // Read from outside the batch's transaction the moment each answer arrives: the row must be visible.
    const seen = await Promise.all(
      [1, 2, 3, 4, 5].map(async (value) => {
        await batcher.submit(value);
        return (await rows()).includes(value);
      }),
    );
    expect(seen).toEqual([true, true, true, true, true]);
  });

  it('refuses one input, runs another alone, and commits the neighbours of both', async () => {
    const alone: number[] = [];
    const batcher = new CommitBatcher(
      test.database,
      insertOperation(async (value) => {
        alone.push(value);
        return 100;
      }),
      options,
    );
    const settled = await Promise.allSettled([1, -1, 0, 2].map((value) => batcher.submit(value)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_request' });
    expect((settled[2] as PromiseFulfilledResult<number>).value).toBe(100);
    expect(alone).toEqual([0]);
    expect(await rows()).toEqual([1, 2]);
    expect(batcher.stats.inputsAlone).toBe(1);
  });

  it('splits a broken batch in halves until the culprit fails alone; its neighbours commit once', async () => {
    const failures: { message: string; size: number }[] = [];
    const batcher = new CommitBatcher(
      test.database,
      insertOperation(async () => {
        throw new Error('must not run alone');
      }),
      {
        ...options,
        onBatchFailed: (error, size) => failures.push({ message: (error as Error).message, size }),
      },
    );
    const values = [11, 12, 13, 14, 15, 16, 17, 18];
    const settled = await Promise.allSettled(values.map((value) => batcher.submit(value)));
    expect(settled.map((s) => s.status)).toEqual(values.map((v) => (v === 13 ? 'rejected' : 'fulfilled')));
    expect((settled[2] as PromiseRejectedResult).reason).toMatchObject({ message: 'a bug met by one input' });
    // Nothing of a rolled-back batch remains: every row was written once, by the half that committed.
    expect(await rows()).toEqual([11, 12, 14, 15, 16, 17, 18]);
    // [11..18] → [11..14] → [11, 12] ok, [13, 14] → [13] fails, [14] ok; [15..18] ok: 4 roll-backs, each reported.
    expect(failures.map((f) => f.size)).toEqual([8, 4, 2, 1]);
    expect(failures.every((f) => f.message === 'a bug met by one input')).toBe(true);
    expect(batcher.stats.batchesRolledBack).toBe(4);
    expect(batcher.stats.inputsAlone).toBe(0);
  });

  it('never splits or retries a broken invariant: it fails the batch and stops the process', async () => {
    const broken: Error[] = [];
    let runs = 0;
    const batcher = new CommitBatcher<number, number>(
      test.database,
      {
        async runMany(tx, inputs) {
          runs += 1;
          await tx.query('INSERT INTO batcher_rows (value) VALUES (99)');
          if (inputs.includes(66)) throw new Error('invariant: a ledger total moved');
          return inputs.map((value) => ({ kind: 'done', value }));
        },
      },
      { ...options, onInvariantBroken: (error) => broken.push(error) },
    );
    const settled = await Promise.allSettled([64, 65, 66, 67].map((value) => batcher.submit(value)));
    expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    expect(broken.map((error) => error.message)).toEqual(['invariant: a ledger total moved']);
    expect(runs).toBe(1);
    expect(await rows()).toEqual([]);
  });

  it('runs a batch again after a serialization failure, and answers from the run that committed', async () => {
    let failuresLeft = 1;
    const operation: BatchOperation<number, number> = {
      async runMany(tx, inputs) {
        for (const value of inputs) await tx.query('INSERT INTO batcher_rows (value) VALUES ($1)', [value]);
        if (failuresLeft-- > 0)
          throw Object.assign(new Error('could not serialize access'), { code: '40001' });
        return inputs.map((value) => ({ kind: 'done', value }));
      },
      runAlone: async () => {
        throw new Error('must not run alone');
      },
    };
    const batcher = new CommitBatcher(test.database, operation, options);
    expect(await Promise.all([21, 22].map((value) => batcher.submit(value)))).toEqual([21, 22]);
    expect(await rows()).toEqual([21, 22]);
    expect(batcher.stats.batchesRolledBack).toBe(0);
  });

  it('refuses with service_unavailable, and queues nothing, once its queue is full', async () => {
    const small = { ...options, batchSizeMax: 2, queueLengthMax: 2 };
    const batcher = new CommitBatcher(
      test.database,
      insertOperation(async () => -1),
      small,
    );
    const accepted = [batcher.submit(31), batcher.submit(32)];
    await expect(batcher.submit(33)).rejects.toMatchObject({ code: 'service_unavailable' });
    await Promise.all(accepted);
    expect(await rows()).toEqual([31, 32]);
  });

  it('runs a single statement on the database itself when told it is not transactional', async () => {
    const calls: SqlExecutor[] = [];
    const operation: BatchOperation<number, number> = {
      async runMany(executor, inputs) {
        calls.push(executor);
        return inputs.map((value) => ({ kind: 'done', value }));
      },
      runAlone: async () => -1,
    };
    const batcher = new CommitBatcher(test.database, operation, { ...options, transactional: false });
    expect(await batcher.submit(41)).toBe(41);
    expect(calls).toEqual([test.database]);
  });

  it('refuses bounds that make no sense', () => {
    const operation = insertOperation(async () => -1);
    expect(() => new CommitBatcher(test.database, operation, { ...options, batchSizeMax: 0 })).toThrow(
      RangeError,
    );
    expect(() => new CommitBatcher(test.database, operation, { ...options, batchesInFlightMax: 0 })).toThrow(
      RangeError,
    );
    expect(() => new CommitBatcher(test.database, operation, { ...options, queueLengthMax: 5 })).toThrow(
      RangeError,
    );
  });
});
