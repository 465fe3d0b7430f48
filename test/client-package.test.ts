// Proves that the merchant client packs as a merchant installs it: `npm pack --dry-run` of packages/client lists a few small files (its README, package.json and the built dist), and the package depends on nothing at run time.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Bounds of the packed client: far above what it is (12 files, about 30 kB), far below a server's. */
const packedFilesMax = 20;
const unpackedBytesMax = 100_000;

interface PackReport {
  name: string;
  entryCount: number;
  unpackedSize: number;
  files: { path: string }[];
}

describe('the @countersign/client package', () => {
  it('packs a dozen small files: README, package.json and the built client', async () => {
    // `prepare` builds dist/ first, as it would before a publish.
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--workspace', 'packages/client'], {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [report] = JSON.parse(stdout.slice(stdout.indexOf('['))) as PackReport[];
    expect(report?.name).toBe('@countersign/client');
    const paths = report!.files.map((file) => file.path).sort();
    expect(paths).toContain('README.md');
    expect(paths).toContain('package.json');
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    for (const path of paths) expect(path).toMatch(/^(README\.md|package\.json|dist\/[a-z-]+\.(js|d\.ts))$/);
    expect(paths.some((path) => path.includes('.test.'))).toBe(false);
    expect(report!.entryCount).toBeLessThanOrEqual(packedFilesMax);
    expect(report!.unpackedSize).toBeLessThanOrEqual(unpackedBytesMax);
  }, 180_000);

  it('depends on nothing at run time', async () => {
    const manifest = JSON.parse(await readFile('packages/client/package.json', 'utf8')) as Record<
      string,
      unknown
    >;
    for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundledDependencies']) {
      expect(Object.keys((manifest[field] as object | undefined) ?? {}), field).toEqual([]);
    }
  });
});
