// Proves that GET /openapi.json passes Redocly's recommended rules with no error, offline: the document is written to a temporary file and linted by the pinned @redocly/cli with telemetry and update checks off.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

const run = promisify(execFile);
const redoclyCli = join(process.cwd(), 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

/** The CLI's environment: no telemetry, no update notice, and no proxy through which it could reach out. */
const offline = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_UPDATE_NOTIFIER: '1',
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
};

interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer?: string }[];
}

describe('the OpenAPI document under Redocly lint', () => {
  let platform: TestPlatform;
  let directory: string;

  beforeAll(async () => {
    platform = await startTestPlatform('pglite');
    directory = await mkdtemp(join(tmpdir(), 'countersign-openapi-'));
  });
  afterAll(async () => {
    await platform.dispose();
    await rm(directory, { recursive: true, force: true });
  });

  it('has no error under the recommended rules', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const documentPath = join(directory, 'openapi.json');
    const configPath = join(directory, 'redocly.yaml');
    await writeFile(documentPath, response.body);
    await writeFile(configPath, 'extends:\n  - recommended\n');
    // Lint exits 1 when it finds an error; the JSON report on stdout is read either way.
    const result = await run(
      process.execPath,
      [
        redoclyCli,
        'lint',
        documentPath,
        '--config',
        configPath,
        '--format',
        'json',
        '--max-problems',
        '10000',
      ],
      { env: offline, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    ).catch((error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }));
    const report = JSON.parse(result.stdout) as {
      totals: { errors: number; warnings: number };
      problems: LintProblem[];
    };
    const errors = report.problems
      .filter((problem) => problem.severity === 'error')
      .map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer ?? ''}: ${problem.message}`);
    const byRule: Record<string, number> = {};
    for (const problem of report.problems) {
      const name = `${problem.severity} ${problem.ruleId}`;
      byRule[name] = (byRule[name] ?? 0) + 1;
    }
    console.info(
      `redocly lint: ${report.totals.errors} errors, ${report.totals.warnings} warnings`,
      JSON.stringify(byRule),
    );
    expect(errors).toEqual([]);
  }, 180_000);
});
