/**
 * One process per embedded database. PGlite keeps its data directory open in one process and knows
 * nothing of others: a second process writing to the same directory — a CLI command run next to a
 * running server — corrupts it. A lock file in the directory, holding the owner's pid and a random nonce,
 * marks it as taken. A lock left behind by a process that died (a crash, `kill -9`) is taken over, so a
 * crash never needs a manual clean-up; a lock whose pid is alive is respected, and the error says which
 * file to delete if that pid is not in fact a Countersign process (pids are reused).
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { limits } from '../domain/limits.js';

/** Name of the lock file inside the PGlite directory. */
export const dataDirectoryLockFileName = 'countersign.lock';

/** The data directory is open in another live process. */
export class DataDirectoryInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly lockPath: string,
    readonly ownerPid: number | undefined,
  ) {
    super(
      `another countersign process uses DATA_DIR ${dataDir}` +
        `${ownerPid === undefined ? '' : ` (pid ${ownerPid})`}: stop it first, or use DATABASE_URL; ` +
        `if no such process runs, delete ${lockPath}`,
    );
    this.name = 'DataDirectoryInUseError';
  }
}

/** A held lock. `release` removes the file if it is still ours; calling it twice is harmless. */
export interface DataDirectoryLock {
  readonly path: string;
  release(): Promise<void>;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

async function readOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function ownerPidOf(content: string): number | undefined {
  const pid = Number(content.trim().split(/\s+/)[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx', 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Moves a stale lock out of the way. The rename is atomic, but between reading the stale content and
 * renaming, another process may have taken the lock over already; then the file moved is its fresh lock,
 * which is put back (`link` never overwrites) and the directory counts as in use.
 */
async function removeStale(lockPath: string, staleContent: string): Promise<boolean> {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  const moved = await readOrUndefined(aside);
  if (moved !== staleContent) {
    await link(aside, lockPath).catch(() => undefined);
    await unlink(aside).catch(() => undefined);
    return false;
  }
  await unlink(aside);
  return true;
}

/**
 * Takes the lock of `directory` (the PGlite directory under `dataDir`) for this process, or throws
 * DataDirectoryInUseError when a live process holds it. The same process opening the directory twice is
 * refused too: two PGlite instances over one directory corrupt it just the same.
 */
export async function acquireDataDirectoryLock(
  directory: string,
  dataDir: string,
): Promise<DataDirectoryLock> {
  const lockPath = path.join(directory, dataDirectoryLockFileName);
  const content = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < limits.dataDirectoryTakeoverAttemptsMax; attempt++) {
    if (await tryCreate(lockPath, content)) {
      return { path: lockPath, release: () => releaseIfOurs(lockPath, content) };
    }
    const existing = await readOrUndefined(lockPath);
    if (existing === undefined) continue;
    const ownerPid = ownerPidOf(existing);
    if (ownerPid !== undefined && isAlive(ownerPid)) {
      throw new DataDirectoryInUseError(dataDir, lockPath, ownerPid);
    }
    // The owner died without cleaning up (or the file is unreadable garbage): take the directory over.
    if (!(await removeStale(lockPath, existing))) {
      throw new DataDirectoryInUseError(dataDir, lockPath, undefined);
    }
  }
  throw new DataDirectoryInUseError(dataDir, lockPath, undefined);
}

async function releaseIfOurs(lockPath: string, content: string): Promise<void> {
  if ((await readOrUndefined(lockPath)) !== content) return;
  await unlink(lockPath).catch((error: unknown) => {
    if (errorCode(error) !== 'ENOENT') throw error;
  });
}
