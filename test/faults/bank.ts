// `npm run test:faults`: the bank test under faults on PGlite and PostgreSQL, seeded and reproducible.
// Usage: node --import tsx test/faults/bank.ts [--seed N] [--seconds N] [--engines pglite,postgres] [--short]
//        node --import tsx test/faults/bank.ts --failover [--seed N] [--seconds N]   (PostgreSQL only)
//        [--promoter pg_ctl|pg_auto_failover]
import { parseArgs } from 'node:util';
import { type BankOptions, type FaultKind, formatReport, runBank } from './bank-run.js';
import type { Promoter } from './ha-cluster.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seconds: { type: 'string' },
    engines: { type: 'string', default: 'pglite,postgres' },
    short: { type: 'boolean', default: false },
    'shared-postgres': { type: 'boolean', default: false },
    // A primary with a synchronous standby; the primary is killed half-way and the standby promoted.
    failover: { type: 'boolean', default: false },
    // Who promotes in a failover run: pg_ctl (the nemesis itself) or pg_auto_failover (its monitor).
    promoter: { type: 'string', default: 'pg_ctl' },
  },
});

function promoterOf(name: string): Promoter {
  if (name !== 'pg_ctl' && name !== 'pg_auto_failover') throw new Error(`unknown promoter ${name}`);
  return name;
}

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const seconds = Number(values.seconds ?? (values.short ? 12 : 90));
const postgresUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let failed = false;
const engines = values.failover
  ? ['postgres']
  : (values.engines ?? '').split(',').filter((name) => name !== '');
for (const engine of engines) {
  if (engine !== 'pglite' && engine !== 'postgres') throw new Error(`unknown engine ${engine}`);
  // The long form crashes PostgreSQL itself, so it runs a private cluster rather than the shared server.
  const privatePostgres = engine === 'postgres' && !values.short && !values['shared-postgres'];
  const faults: FaultKind[] = values.failover
    ? ['failover']
    : engine === 'pglite'
      ? ['kill', 'pause']
      : ['kill', 'pause', 'terminate', ...(privatePostgres ? (['postgres_crash'] as const) : [])];
  const options: BankOptions = {
    engine,
    seed,
    durationMs: seconds * 1000,
    clients: values.short ? 4 : 8,
    payers: values.short ? 6 : 12,
    payees: 4,
    faultGapMs: values.short ? [1500, 3000] : [2000, 6000],
    faults,
    postgresUrl,
    privatePostgres,
    failover: values.failover,
    promoter: promoterOf(values.promoter ?? 'pg_ctl'),
    requestDeadlineMs: values.short ? 8_000 : 90_000,
    log: (line) => process.stdout.write(`[${engine}] ${line}\n`),
  };
  process.stdout.write(`bank test on ${engine}: seed ${seed}, ${seconds} s, faults ${faults.join(', ')}\n`);
  const report = await runBank(options);
  process.stdout.write(`${formatReport(report)}\n`);
  if (report.violations.length > 0) failed = true;
}
if (failed) {
  process.stdout.write(`FAILED: replay with --seed ${seed}\n`);
  process.exitCode = 1;
}
