// Proves that the data directory is private to the server's user: a new one is created 0700 with the embedded database's files unreadable to others, and one that others can enter is refused, naming DATA_DIR, before anything is written into it.
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openPlatform } from '../../src/main.js';
import { runCli } from '../support/processes.js';

/** Every file and directory under `root` (itself included) whose mode lets the group or others in. */
async function openToOthers(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (entry: string) => {
    const status = await stat(entry);
    if ((status.mode & 0o077) !== 0) found.push(`${entry} ${(status.mode & 0o777).toString(8)}`);
    if (status.isDirectory()) {
      for (const name of await readdir(entry)) await visit(path.join(entry, name));
    }
  };
  await visit(root);
  return found;
}

const modeOf = async (entry: string) => (await stat(entry)).mode & 0o777;

describe.skipIf(process.platform === 'win32')('the data directory', { timeout: 300_000 }, () => {
  let parent: string;

  beforeEach(async () => {
    parent = await mkdtemp(path.join(os.tmpdir(), 'countersign-data-directory-'));
  });
  afterEach(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('is created 0700 on first start, with the embedded database and the key files private to the user', async () => {
    const dataDir = path.join(parent, 'data');
    const result = await runCli(['ledger', 'verify'], { DATA_DIR: dataDir });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(await modeOf(dataDir)).toBe(0o700);
    expect(await modeOf(path.join(dataDir, 'pglite'))).toBe(0o700);
    expect(await readdir(dataDir)).toEqual(
      expect.arrayContaining(['master.key', 'operator.token', 'pglite']),
    );
    // PGlite's own files included: none of them may be readable, writable or searchable by others.
    expect((await readdir(path.join(dataDir, 'pglite'))).length).toBeGreaterThan(0);
    expect(await openToOthers(dataDir)).toEqual([]);
  });

  it('refuses a data directory that others can enter, saying which and how to fix it, and writes nothing', async () => {
    const refusedDir = await mkdtemp(path.join(parent, 'shared-'));
    await chmod(refusedDir, 0o755);
    const result = await runCli(['ledger', 'verify'], { DATA_DIR: refusedDir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`DATA_DIR ${refusedDir}`);
    expect(result.stderr).toContain(`chmod 700 ${refusedDir}`);
    expect(result.stdout).toBe('');
    expect(await readdir(refusedDir)).toEqual([]);
    expect(await modeOf(refusedDir)).toBe(0o755);
  });

  it.each(['0750', '0705', '0777'])(
    'refuses mode %s in-process too, before the database or the keys are touched',
    async (octal) => {
      const mode = Number.parseInt(octal, 8);
      const dataDir = await mkdtemp(path.join(parent, 'open-'));
      await chmod(dataDir, mode);
      // The database named is unreachable: the refusal must come first, from the directory check.
      const config = loadConfig({
        DATA_DIR: dataDir,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/countersign',
        LOG_LEVEL: 'silent',
      });
      await expect(openPlatform(config)).rejects.toThrow(
        new RegExp(`^DATA_DIR ${dataDir} is open to other users \\(mode ${octal}\\).*chmod 700`),
      );
      expect(await readdir(dataDir)).toEqual([]);
      expect(await modeOf(dataDir)).toBe(mode);
    },
  );
});
