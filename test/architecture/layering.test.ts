// Proves that src/ follows the layering of docs/architecture.md (one-way imports, no cycles, a pure domain),
// and that the same rules catch a wrong import when there is one.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const config = path.join(root, '.dependency-cruiser.cjs');
const depcruise = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
  readonly cycle?: readonly { readonly name: string }[];
}

/** Runs dependency-cruiser with the project's rules over `src/` of `directory` and returns its violations. */
function cruise(directory: string): Violation[] {
  const run = spawnSync(
    process.execPath,
    [depcruise, 'src', '--config', config, '--output-type', 'json', '--no-progress'],
    { cwd: directory, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  // The cruiser exits non-zero when it finds violations, so the exit code alone says nothing: a run that
  // produced no report at all (a broken config, a missing binary) must fail the test rather than pass it.
  expect(run.error).toBeUndefined();
  expect(run.stdout.trim().startsWith('{'), `no report; stderr: ${run.stderr}`).toBe(true);
  const report = JSON.parse(run.stdout) as {
    summary: { violations: Violation[]; totalCruised: number };
  };
  expect(report.summary.totalCruised).toBeGreaterThan(0);
  return report.summary.violations;
}

/** One line per violation, readable in a failure message. */
function describeViolation(violation: Violation): string {
  const cycle = violation.cycle ? ` (cycle: ${violation.cycle.map((step) => step.name).join(' → ')})` : '';
  return `${violation.rule.name}: ${violation.from} → ${violation.to}${cycle}`;
}

describe('layering of src/', () => {
  it('has no import against the layer order, no cycle and no I/O in domain/', () => {
    const violations = cruise(root).map(describeViolation);
    expect(violations).toEqual([]);
  });
});

describe('the layering rules on a deliberately wrong tree', () => {
  const fixture = path.join(root, 'test', 'fixtures', 'layering');

  it('reports a domain file importing store/ and doing I/O, a route importing store/ and terminal-core/, terminal code importing a service and doing I/O, and a cycle', () => {
    const violations = cruise(fixture);
    const found = violations.map(
      (violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`,
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'domain-is-innermost: src/domain/amount.ts → src/store/amount-repository.ts',
        'domain-does-no-io: src/domain/amount.ts → fs',
        'store-only-from-composition-root: src/domain/amount.ts → src/store/amount-repository.ts',
        'store-only-from-composition-root: src/http/payment-routes.ts → src/store/amount-repository.ts',
        'terminal-core-for-terminals-only: src/http/payment-routes.ts → src/terminal-core/sealed-limit.ts',
        'terminal-core-above-domain-only: src/terminal-core/sealed-limit.ts → src/services/payment-service.ts',
        'terminal-core-runs-in-browsers: src/terminal-core/sealed-limit.ts → fs',
      ]),
    );
    const cycles = violations.filter((violation) => violation.rule.name === 'no-circular');
    expect(cycles).toHaveLength(1);
    const cycle = [cycles[0]!.from, ...(cycles[0]!.cycle ?? []).map((step) => step.name)];
    expect([...new Set(cycle)].sort()).toEqual([
      'src/services/payment-service.ts',
      'src/services/refund-service.ts',
    ]);
    // The allowed imports of the fixture (a route calling a service) are not reported.
    expect(found.filter((line) => line.includes('src/http/payment-routes.ts → src/services/'))).toEqual([]);
  });
});
