/**
 * A transaction through the `postgres` driver's `begin`, guarded against a defect of the driver (3.4.9 and
 * 3.4.10): once a transaction's connection has closed, a statement sent on it, the driver's own ROLLBACK
 * or COMMIT included, is written to a socket the driver has already dropped, and the `TypeError` (reading
 * 'write' of null, in `connection.js` `nextWrite`) is thrown from a timer: an uncaught exception that ends
 * the server process. It happens whenever the database server goes away mid-transaction: a failover, a
 * restart, `pg_terminate_backend`. (Release 4 of the driver no longer sends on a closed connection; moving
 * to it changes how parameters are typed and is a separate piece of work: docs/failover.md.)
 *
 * The guard keeps every statement off a connection known to be gone, and never hands the driver a settled
 * callback for one: nothing is swallowed, because the driver rejects the `begin` itself when the connection
 * closes (CONNECTION_CLOSED), and that rejection is what the caller gets (503 through `onPrimary`). The
 * callback whose connection is gone is left pending; nothing refers to it once `begin` has rejected, and
 * it is collected.
 */
import type postgres from 'postgres';
import { limits } from '../domain/limits.js';
import type { SqlExecutor } from '../services/database.js';
import { connectionLost } from './postgres-availability.js';

/** What the guard knows of one transaction's connection. */
interface ConnectionState {
  /** The driver settled `begin`: after a close, it rejected it without waiting for the callback. */
  ended: boolean;
  /** The first statement that failed because the connection broke. */
  lost: unknown;
  readonly whenEnded: Promise<void>;
}

/** A promise that never settles: what the driver's callback returns once its connection is gone. */
const connectionGone = <T>(): Promise<T> => new Promise<T>(() => {});

/**
 * Runs `work` in a transaction on `sql`, `executorOf` wrapping the driver's transaction handle. Resolves
 * with `work`'s result once committed; rejects with `work`'s error (rolled back), or with the driver's
 * connection error when the connection was lost (the outcome of a COMMIT in flight is then unknown).
 */
export function guardedBegin<T>(
  sql: postgres.Sql,
  executorOf: (tx: postgres.TransactionSql) => SqlExecutor,
  work: (tx: SqlExecutor) => Promise<T>,
): Promise<T> {
  let markEnded = () => {};
  const state: ConnectionState = {
    ended: false,
    lost: undefined,
    whenEnded: new Promise<void>((resolve) => {
      markEnded = resolve;
    }),
  };
  const running = sql.begin(async (tx) => {
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: await work(guardedExecutor(executorOf(tx), state)) };
    } catch (error) {
      outcome = { error };
    }
    if (state.lost !== undefined && !state.ended) await closedWithin(state);
    // The connection is gone: a COMMIT or ROLLBACK sent now would end the process (see above), and the
    // driver has rejected `begin` with the connection's error already.
    if (state.ended) return connectionGone<T>();
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }) as Promise<T>;
  const end = () => {
    state.ended = true;
    markEnded();
  };
  running.then(end, end);
  return running;
}

/**
 * A lost statement is followed by the connection's close, and so by the driver rejecting `begin`; waits
 * for that a bounded time. A connection still open after it was not lost after all, and ends as usual.
 */
async function closedWithin(state: ConnectionState): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    state.whenEnded,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, limits.transactionConnectionCloseWaitMs);
    }),
  ]);
  clearTimeout(timer);
}

/** `executor`, except that nothing reaches the driver once the connection is known to be gone. */
function guardedExecutor(executor: SqlExecutor, state: ConnectionState): SqlExecutor {
  const guarded = async <R>(call: () => Promise<R>): Promise<R> => {
    if (state.lost !== undefined) throw state.lost;
    if (state.ended) throw connectionEndedError();
    try {
      return await call();
    } catch (error) {
      if (connectionLost(error) && state.lost === undefined) state.lost = error;
      throw error;
    }
  };
  return {
    query: (text, params) => guarded(() => executor.query(text, params)),
    script: (text) => guarded(() => executor.script(text)),
  };
}

/** The error of a statement attempted after the driver ended the transaction (its connection closed). */
function connectionEndedError(): Error {
  return Object.assign(new Error('the transaction ended: its database connection closed'), {
    code: 'CONNECTION_CLOSED',
  });
}
