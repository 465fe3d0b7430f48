// Compiles the page scripts (src/web/**/scripts) into dist/ once per test run, so that browser tests load what a release serves.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Runs `tsc -p tsconfig.web.json`. Type errors (exit code 2: tsc still wrote the files) are printed and
 * left to the type check, so that one broken module does not stop every test file; anything else (tsc
 * missing, a broken configuration) throws with the compiler's output.
 */
export async function buildPageScripts(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.web.json'], { cwd: projectRoot });
  } catch (error) {
    const failure = error as { code?: unknown; stdout?: string };
    const output = failure.stdout ?? String(error);
    if (failure.code === 2) {
      console.warn(`\npage scripts compiled with type errors (tsc -p tsconfig.web.json):\n${output}`);
      return;
    }
    throw new Error(`page scripts do not compile (tsc -p tsconfig.web.json):\n${output}`);
  }
}
