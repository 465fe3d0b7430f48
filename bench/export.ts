/**
 * Export throughput and memory: seeds transfers spread over a month with one set-based INSERT, then streams
 * the CSV export through ExportService (the code the endpoint and the CLI run) into a sink that discards
 * it, sampling process.memoryUsage() while it runs. Bounded memory shows as heap growth that does not grow
 * with the row count, so each engine runs every size in `--rows`.
 *
 *   npm run bench:export -- [--rows 100000,1000000] [--database-url URL] [--format csv|jsonl] [--skip-pglite]
 *
 * PGlite runs in a fresh temporary directory; PostgreSQL (when a URL is given, or DATABASE_URL) in a fresh
 * database created on that server and dropped at the end. Prints the figures and writes
 * bench/results/export-<time>.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cliActor } from '../src/domain/operator.js';
import type { Database } from '../src/services/database.js';
import { ExportService } from '../src/services/exports/export-service.js';
import { sqlExportStore } from '../src/store/export-repository.js';
import { migrate } from '../src/store/migrate.js';
import { openPglite } from '../src/store/pglite-database.js';
import { openPostgres } from '../src/store/postgres-database.js';

const resultsDirectory = fileURLToPath(new URL('./results/', import.meta.url));
const month = { fromMs: Date.UTC(2030, 0, 1), toMs: Date.UTC(2030, 1, 1) };
const rowsMax = 10_000_000;
const sampleEveryMs = 20;
const mib = 1024 * 1024;

/** Two accounts and `rows` transfers between them, spread evenly over the month, in one statement. */
async function seed(database: Database, rows: number): Promise<void> {
  await database.query(
    `INSERT INTO accounts (id, currency, kind, created_at_ms) VALUES
       ('00000000-0000-4000-8000-000000000001', 'EUR', 'funding', $1),
       ('00000000-0000-4000-8000-000000000002', 'EUR', 'payer', $1)`,
    [BigInt(month.fromMs)],
  );
  const spanMs = month.toMs - month.fromMs;
  await database.query(
    `INSERT INTO transfers (id, debit_account_id, credit_account_id, amount, currency, kind, reference, created_at_ms)
     SELECT md5('t' || i)::uuid, '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002',
            1 + i % 100000, 'EUR', 'single', 'ref-' || i, $1::bigint + (i::bigint * $2::bigint) / $3::bigint
     FROM generate_series(0, $3::bigint - 1) AS i`,
    [BigInt(month.fromMs), BigInt(spanMs), BigInt(rows)],
  );
}

interface Figures {
  readonly engine: string;
  readonly rows: number;
  readonly seedSeconds: number;
  readonly exportSeconds: number;
  readonly rowsPerSecond: number;
  readonly bytes: number;
  readonly heapGrowthMiB: number;
  readonly rssGrowthMiB: number;
}

async function measure(
  engine: string,
  open: () => Promise<{ database: Database; dispose: () => Promise<void> }>,
  rows: number,
  format: 'csv' | 'jsonl',
): Promise<Figures> {
  const { database, dispose } = await open();
  try {
    await migrate(database);
    const seedStart = performance.now();
    await seed(database, rows);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const service = new ExportService(database, sqlExportStore);
    global.gc?.();
    const before = process.memoryUsage();
    let heapPeak = before.heapUsed;
    let rssPeak = before.rss;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      heapPeak = Math.max(heapPeak, now.heapUsed);
      rssPeak = Math.max(rssPeak, now.rss);
    }, sampleEveryMs);
    let bytes = 0;
    let lines = 0;
    const sink = new Writable({
      decodeStrings: false,
      write(chunk: string, _encoding, done) {
        bytes += Buffer.byteLength(chunk);
        for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) lines += 1;
        done();
      },
    });
    const start = performance.now();
    await pipeline(Readable.from(service.file(cliActor, 'transfers', format, month)), sink);
    const exportSeconds = (performance.now() - start) / 1000;
    clearInterval(sampler);
    const exported = format === 'csv' ? lines - 1 : lines;
    if (exported !== rows) throw new Error(`exported ${exported} rows, seeded ${rows}`);
    return {
      engine,
      rows,
      seedSeconds: Number(seedSeconds.toFixed(2)),
      exportSeconds: Number(exportSeconds.toFixed(2)),
      rowsPerSecond: Math.round(rows / exportSeconds),
      bytes,
      heapGrowthMiB: Number(((heapPeak - before.heapUsed) / mib).toFixed(1)),
      rssGrowthMiB: Number(((rssPeak - before.rss) / mib).toFixed(1)),
    };
  } finally {
    await dispose();
  }
}

async function pgliteTemporary() {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-bench-export-'));
  const database = await openPglite({ dataDir: directory });
  return {
    database,
    dispose: async () => {
      await database.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function postgresTemporary(adminUrl: string) {
  return async () => {
    const admin = await openPostgres({ url: adminUrl, poolSize: 1 });
    const name = `countersign_bench_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const database = await openPostgres({ url: url.toString(), poolSize: 2 });
    return {
      database,
      dispose: async () => {
        await database.close();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.close();
      },
    };
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '100000,1000000' },
      'database-url': { type: 'string' },
      format: { type: 'string', default: 'csv' },
      'skip-pglite': { type: 'boolean', default: false },
    },
  });
  const sizes = (values.rows ?? '').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > rowsMax)) {
    throw new Error(`--rows takes integers from 1 to ${rowsMax}, comma-separated`);
  }
  const format = values.format === 'jsonl' ? 'jsonl' : 'csv';
  const url = values['database-url'] ?? process.env['DATABASE_URL'];
  const figures: Figures[] = [];
  for (const rows of sizes) {
    if (values['skip-pglite'] !== true) {
      figures.push(await measure('pglite', pgliteTemporary, rows, format));
      console.log(JSON.stringify(figures.at(-1)));
    }
    if (url !== undefined) {
      figures.push(await measure('postgres', postgresTemporary(url), rows, format));
      console.log(JSON.stringify(figures.at(-1)));
    }
  }
  await mkdir(resultsDirectory, { recursive: true });
  const file = path.join(resultsDirectory, `export-${new Date().toISOString().replace(/[-:.]/g, '')}.json`);
  await writeFile(file, `${JSON.stringify({ format, pageRows: 1000, figures }, null, 2)}\n`);
  console.log(`report: ${path.relative(process.cwd(), file)}`);
}

await main();
