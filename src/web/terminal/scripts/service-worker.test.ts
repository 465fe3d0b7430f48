// Proves that the browser authenticator's service worker keeps exactly the modules its page loads: the page's scripts and, transitively, every module they import once compiled (type-only imports vanish), so that the page opens offline.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { scriptUrl } from '../../layout.js';
import { terminalPageScripts } from '../terminal-page.js';

const sourceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The scripts `/terminal/` names in its script tags; the vendored one imports nothing. */
const pageScripts = terminalPageScripts;
const vendored = new Set(['vendor/simplewebauthn-browser']);

/** The specifiers a source file's compiled JavaScript imports, static and dynamic. */
function compiledImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const compiled = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true },
  }).outputText;
  return ts.preProcessFile(compiled, true, true).importedFiles.map((imported) => imported.fileName);
}

/** Paths under `src/` (without extension) of the modules a script loads, itself excluded. */
function importedModules(entry: string): Set<string> {
  const found = new Set<string>();
  const pending = [entry];
  for (let current = pending.pop(); current !== undefined; current = pending.pop()) {
    for (const specifier of compiledImports(path.join(sourceRoot, `${current}.ts`))) {
      expect(specifier, `${current} imports a package a browser cannot resolve`).toMatch(/^\.\.?\//);
      const resolved = path.posix.join(path.posix.dirname(current), specifier).replace(/\.js$/, '');
      if (resolved === entry || found.has(resolved)) continue;
      found.add(resolved);
      pending.push(resolved);
    }
  }
  return found;
}

describe('the terminal service worker', () => {
  afterAll(() => {
    vi.unstubAllGlobals();
  });

  it('keeps every module the page loads, and no other script', async () => {
    // The worker registers its listeners on `self` when loaded; here they are only collected.
    vi.stubGlobal('self', { addEventListener: () => undefined });
    const { shell } = await import('./service-worker.js');
    const expected = new Set<string>();
    for (const script of pageScripts) {
      expected.add(scriptUrl(script));
      if (vendored.has(script)) continue;
      // Relative imports resolve against the script's path, without its `?v=` query.
      for (const module of importedModules(script)) expected.add(`/assets/js/${module}.js`);
    }
    const kept = shell.filter((entry) => entry.startsWith('/assets/js/'));
    expect(new Set(kept)).toEqual(expected);
    expect(kept).toHaveLength(expected.size);
    expect(expected).toContain('/assets/js/domain/errors.js');
    expect(expected).toContain('/assets/js/domain/limits.js');
  });
});
