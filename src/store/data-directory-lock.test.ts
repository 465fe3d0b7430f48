// Proves that the data directory lock admits one process at a time: a live owner is respected, a dead owner's lock is taken over, and release removes only our own lock (test/cli.test.ts proves it through openDatabase and the CLI).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireDataDirectoryLock,
  DataDirectoryInUseError,
  dataDirectoryLockFileName,
} from './data-directory-lock.js';

/** The pid of a process that has exited (pids are reused only after the kernel wraps around). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid;
  await new Promise((resolve) => child.once('exit', resolve));
  if (pid === undefined) throw new Error('no pid');
  return pid;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

describe('data directory lock', () => {
  let dataDir: string;
  let directory: string;
  let lockPath: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-lock-'));
    directory = dataDir;
    lockPath = path.join(directory, dataDirectoryLockFileName);
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('writes our pid, refuses a second holder with a clear message, and releases on request', async () => {
    const lock = await acquireDataDirectoryLock(directory, dataDir);
    expect((await readFile(lockPath, 'utf8')).split(' ')[0]).toBe(String(process.pid));
    const second = acquireDataDirectoryLock(directory, dataDir);
    await expect(second).rejects.toBeInstanceOf(DataDirectoryInUseError);
    await expect(second).rejects.toThrow(
      `another countersign process uses DATA_DIR ${dataDir} (pid ${process.pid})`,
    );
    await lock.release();
    expect(await exists(lockPath)).toBe(false);
    await lock.release();
    const again = await acquireDataDirectoryLock(directory, dataDir);
    await again.release();
  });

  it('respects the lock of another live process and takes it over once that process is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(lockPath, `${child.pid} 0011223344556677\n`);
      await expect(acquireDataDirectoryLock(directory, dataDir)).rejects.toThrow(`(pid ${child.pid})`);
      expect(await readFile(lockPath, 'utf8')).toBe(`${child.pid} 0011223344556677\n`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    const lock = await acquireDataDirectoryLock(directory, dataDir);
    expect((await readFile(lockPath, 'utf8')).split(' ')[0]).toBe(String(process.pid));
    await lock.release();
  });

  it.each([
    ['a dead pid', async () => `${await deadPid()} 8899aabbccddeeff\n`],
    ['unreadable content', async () => 'not a pid'],
  ])('takes over a stale lock holding %s', async (_name, content) => {
    await writeFile(lockPath, await content());
    const lock = await acquireDataDirectoryLock(directory, dataDir);
    expect((await readFile(lockPath, 'utf8')).split(' ')[0]).toBe(String(process.pid));
    await lock.release();
    expect(await exists(lockPath)).toBe(false);
  });

  it('never removes a lock that is no longer its own', async () => {
    const lock = await acquireDataDirectoryLock(directory, dataDir);
    await writeFile(lockPath, '1 someone-else\n');
    await lock.release();
    expect(await readFile(lockPath, 'utf8')).toBe('1 someone-else\n');
  });
});
