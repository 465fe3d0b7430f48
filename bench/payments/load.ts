/**
 * The load generator: its clients spread over worker threads of this process (a separate process from
 * the server), so that one JavaScript thread is never what limits the measured rate.
 */
import { Worker } from 'node:worker_threads';
import type { LoadWorkerResult, LoadWorkerTask } from './load-worker.js';

/** One load phase. */
export interface LoadPlan {
  /** The servers to drive; client i talks to server i mod their number (a load balancer's round robin). */
  readonly urls: readonly string[];
  readonly benchSecret: string;
  readonly payers: number;
  readonly payees: number;
  readonly clients: number;
  readonly threads: number;
  readonly ratePerSecond: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** What a phase measured, every thread merged. */
export interface LoadOutcome extends LoadWorkerResult {
  readonly measureFromMs: number;
  readonly wallSeconds: number;
}

const tsxApi = import.meta.resolve('tsx/esm/api');
const workerModule = new URL('./load-worker.ts', import.meta.url).href;

function runThread(task: LoadWorkerTask): Promise<LoadWorkerResult> {
  // A worker thread does not inherit the TypeScript loader of `--import tsx`: the bootstrap registers it.
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerModule)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: task });
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { ok: boolean; result?: LoadWorkerResult; error?: string }) => {
      if (message.ok && message.result !== undefined) resolve(message.result);
      else reject(new Error(`load thread failed: ${message.error}`));
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

/**
 * Runs a phase: warm-up (connections opened, statements prepared, JIT warm), then the measured window.
 * `onMeasureStart` runs when the window opens (to sample CPU counters).
 */
export async function runLoad(plan: LoadPlan, onMeasureStart: () => void): Promise<LoadOutcome> {
  const threads = Math.max(1, Math.min(plan.threads, plan.clients));
  const measureFromMs = Date.now() + plan.warmupMs;
  const endMs = measureFromMs + plan.durationMs;
  const timer = setTimeout(onMeasureStart, Math.max(0, measureFromMs - Date.now()));
  const clientsOf = (index: number) =>
    Math.floor(plan.clients / threads) + (index < plan.clients % threads ? 1 : 0);
  const tasks = Array.from(
    { length: threads },
    (_, index): LoadWorkerTask => ({
      urls: plan.urls,
      firstClient: Array.from({ length: index }, (_, before) => clientsOf(before)).reduce((a, b) => a + b, 0),
      benchSecret: plan.benchSecret,
      payers: plan.payers,
      payees: plan.payees,
      clients: clientsOf(index),
      clientsTotal: plan.clients,
      ratePerSecond: plan.ratePerSecond,
      measureFromMs,
      endMs,
    }),
  );
  try {
    const results = await Promise.all(tasks.map(runThread));
    const merged: LoadWorkerResult = {
      payments: results.reduce((sum, r) => sum + r.payments, 0),
      createMs: results.flatMap((r) => r.createMs),
      approveMs: results.flatMap((r) => r.approveMs),
      paymentMs: results.flatMap((r) => r.paymentMs),
      errors: {},
      lastCompletionMs: Math.max(...results.map((r) => r.lastCompletionMs)),
    };
    for (const r of results) {
      for (const [code, n] of Object.entries(r.errors)) merged.errors[code] = (merged.errors[code] ?? 0) + n;
    }
    // Payments still in flight at the end complete after it; the window stretches to include them.
    const wallSeconds = Math.max(endMs, merged.lastCompletionMs) / 1000 - measureFromMs / 1000;
    return { ...merged, measureFromMs, wallSeconds };
  } finally {
    clearTimeout(timer);
  }
}
