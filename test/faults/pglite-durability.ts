// Measures what the embedded PGlite keeps after `kill -9`: deposits are acknowledged as fast as four
// clients can send them, the server is killed at a random moment, and the database is reopened to count
// acknowledged deposits that are missing. Usage: node --import tsx test/faults/pglite-durability.ts [--rounds N] [--seed N]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { derivedId } from '../../src/services/ids.js';
import { createSecrets } from '../../src/services/keys/secrets.js';
import { openPglite } from '../../src/store/pglite-database.js';
import { SeededRandom } from './random.js';
import { freePort, runCli, ServerProcess, sleep } from './server-process.js';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, seed: { type: 'string' } } });
const rounds = Number(values.rounds ?? 5);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const random = new SeededRandom(seed);
const operatorToken = `cs_op_durability_${'y'.repeat(32)}`;
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-durability-'));
const env = {
  DATA_DIR: dataDir,
  OPERATOR_TOKEN: operatorToken,
  MASTER_KEY: randomBytes(32).toString('hex'),
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '10000000',
};
// The server derives ids under the keyed-hash key it stores at its first start, derived from MASTER_KEY.
const keyedHash = createSecrets(env.MASTER_KEY).keyedHash;
const server = new ServerProcess(await freePort(), env, path.join(dataDir, 'server.log'));

async function post(url: string, body: unknown, key: string): Promise<number> {
  const response = await fetch(`${server.url}${url}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${operatorToken}`,
      'idempotency-key': key,
    },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

let acknowledged = 0;
let lost = 0;
let committedUnacknowledged = 0;
try {
  await server.start();
  if (
    (await post(
      '/v1/payers',
      { id: 'durable', password: 'correct horse battery', verificationCode: '1234' },
      'payer',
    )) !== 201
  ) {
    throw new Error('could not create the payer');
  }
  for (let round = 0; round < rounds; round++) {
    if (!server.running) await server.start();
    const acked: string[] = [];
    const sent: string[] = [];
    let stop = false;
    const worker = async (index: number) => {
      for (let n = 0; !stop; n++) {
        const key = `r${round}-w${index}-${n}`;
        sent.push(key);
        try {
          if ((await post('/v1/deposits', { payerId: 'durable', amount: 1, currency: 'EUR' }, key)) === 201)
            acked.push(key);
        } catch {
          return;
        }
      }
    };
    const workers = [0, 1, 2, 3].map(worker);
    await sleep(random.integer(2000, 6000));
    await server.kill9();
    stop = true;
    await Promise.all(workers);
    const database = await openPglite({ dataDir: path.join(dataDir, 'pglite') });
    const rows = await database.query<{ id: string }>(
      `SELECT id::text AS id FROM transfers WHERE kind = 'single'`,
    );
    await database.close();
    const present = new Set(rows.map((row) => row.id));
    const idOf = (key: string) => derivedId(keyedHash, 'deposit', `operator:${key}`);
    const missing = acked.filter((key) => !present.has(idOf(key))).length;
    const extra = sent.filter((key) => !acked.includes(key) && present.has(idOf(key))).length;
    acknowledged += acked.length;
    lost += missing;
    committedUnacknowledged += extra;
    process.stdout.write(
      `round ${round + 1}: ${acked.length} acknowledged, ${missing} lost, ${extra} committed but unanswered\n`,
    );
  }
  const verified = await runCli(['ledger', 'verify'], env);
  process.stdout.write(
    `PGlite after kill -9, seed ${seed}: ${rounds} kills, ${acknowledged} acknowledged deposits, ${lost} lost, ` +
      `${committedUnacknowledged} committed without an answer; ledger verify exit ${verified.code}\n`,
  );
  if (lost > 0 || verified.code !== 0) process.exitCode = 1;
} finally {
  await server.dispose();
  await rm(dataDir, { recursive: true, force: true });
}
