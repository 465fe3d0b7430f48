// Proves that a transaction whose PostgreSQL connection is killed, mid-statement or between statements, is answered 503 service_unavailable and leaves the process running: nothing is sent on the dead connection (the driver's ROLLBACK on it used to end the process with a TypeError), and the pool serves the next call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../test/support/engines.js';
import type { SqlExecutor } from '../services/database.js';

describe.runIf(testEngines().includes('postgres'))('a transaction whose connection is killed', () => {
  let test: TestDatabase;
  const uncaught: unknown[] = [];
  const record = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    test = await openTestDatabase('postgres', 4);
    await test.database.script('CREATE TABLE killed_transaction_rows (id integer PRIMARY KEY)');
    process.on('uncaughtException', record);
  });
  afterAll(async () => {
    process.off('uncaughtException', record);
    await test?.dispose();
  });

  async function backendOf(tx: SqlExecutor): Promise<number> {
    const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return row!.pid;
  }

  const terminate = (pid: number) => test.database.query('SELECT pg_terminate_backend($1)', [pid]);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** What a killed transaction must leave behind: a 503, no row, no uncaught error, a working pool. */
  async function expectAnswered503(outcome: Promise<unknown>, id: number): Promise<void> {
    await expect(outcome).rejects.toMatchObject({ code: 'service_unavailable', status: 503 });
    // The driver's faulty write ran from a timer of the next turn; give it several.
    await pause(300);
    expect(uncaught).toEqual([]);
    const rows = await test.database.query('SELECT id FROM killed_transaction_rows WHERE id = $1', [id]);
    expect(rows).toEqual([]);
    expect(await test.database.query<{ one: number }>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  }

  it('killed while a statement runs', async () => {
    const outcome = test.database.transaction(
      async (tx) => {
        await tx.query('INSERT INTO killed_transaction_rows (id) VALUES (1)');
        const pid = await backendOf(tx);
        setTimeout(() => void terminate(pid), 200);
        await tx.query('SELECT pg_sleep(5)');
      },
      { retriesMax: 0 },
    );
    await expectAnswered503(outcome, 1);
  });

  it('killed between two statements, the next one sent after the close', async () => {
    const outcome = test.database.transaction(
      async (tx) => {
        await tx.query('INSERT INTO killed_transaction_rows (id) VALUES (2)');
        await terminate(await backendOf(tx));
        await pause(300);
        await tx.query('INSERT INTO killed_transaction_rows (id) VALUES (3)');
      },
      { retriesMax: 0 },
    );
    await expectAnswered503(outcome, 2);
    expect(await test.database.query('SELECT id FROM killed_transaction_rows WHERE id = 3')).toEqual([]);
  });

  it('still rolls back and rethrows a failure of the work itself, on a live connection', async () => {
    const refused = test.database.transaction(async (tx) => {
      await tx.query('INSERT INTO killed_transaction_rows (id) VALUES (4)');
      throw new Error('refused by the work');
    });
    await expect(refused).rejects.toThrow('refused by the work');
    expect(await test.database.query('SELECT id FROM killed_transaction_rows WHERE id = 4')).toEqual([]);
    expect(
      await test.database.transaction(async (tx) => {
        await tx.query('INSERT INTO killed_transaction_rows (id) VALUES (5)');
        return 'committed';
      }),
    ).toBe('committed');
    expect(await test.database.query('SELECT id FROM killed_transaction_rows WHERE id = 5')).toEqual([
      { id: 5 },
    ]);
  });
});
