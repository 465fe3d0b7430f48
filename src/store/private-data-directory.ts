/**
 * The data directory holds the master key, the operator token and the embedded database: anyone who can
 * read it can open every sealed value and act as the operator. So it must be private to the server's
 * user. A missing directory is created with mode 0700; an existing one that the group or others may
 * enter is refused, not repaired: the operator has to decide whether someone else may already have read
 * what is in it (and rotate the keys if so), and a start that silently changed modes would hide that.
 */
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { limits } from '../domain/limits.js';

/** The data directory can be entered or read by users other than its owner. */
export class DataDirectoryOpenToOthersError extends Error {
  constructor(
    readonly dataDir: string,
    readonly mode: number,
  ) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    super(
      `DATA_DIR ${dataDir} is open to other users (mode ${octal}): it holds the master key, the operator ` +
        `token and the database, so it must be private to this user. Run chmod 700 ${dataDir}, and ` +
        'rotate the keys if someone else may have read them',
    );
    this.name = 'DataDirectoryOpenToOthersError';
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

/**
 * Makes sure `dataDir` exists and is private: creates it (and missing parents) with mode 0700, or throws
 * DataDirectoryOpenToOthersError when it exists with any group or other permission bit. Throws a plain
 * error when the path is not a directory. Windows has no such mode bits; there the check is skipped.
 */
export async function preparePrivateDataDirectory(dataDir: string): Promise<void> {
  let mode: number;
  try {
    const status = await stat(dataDir);
    if (!status.isDirectory()) throw new Error(`DATA_DIR ${dataDir} exists but is not a directory`);
    mode = status.mode;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    // The mode is narrowed further by the umask, never widened; the check below holds either way.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    mode = (await stat(dataDir)).mode;
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new DataDirectoryOpenToOthersError(dataDir, mode);
  }
}

/**
 * Takes the group and other permission bits off every file and directory under `directory` (itself
 * included; symbolic links are left alone). PGlite sets the modes of its files itself, whatever the
 * process umask: the cluster it creates on first start is 0666, and a few files it writes later 0644. The
 * private data directory already keeps other users out; this makes the files private on their own too,
 * so that a copy or a later `chmod` of the directory does not expose them. Returns how many were changed.
 */
export async function restrictTreeToOwner(directory: string): Promise<number> {
  if (process.platform === 'win32') return 0;
  let changed = 0;
  const visit = async (entry: string, depth: number): Promise<void> => {
    // PostgreSQL's data directory is a few levels deep; a deeper tree is not one of ours.
    if (depth > limits.dataDirectoryDepthMax)
      throw new Error(`${entry} is nested deeper than ${limits.dataDirectoryDepthMax} levels`);
    const status = await lstat(entry);
    if (status.isSymbolicLink()) return;
    if ((status.mode & 0o077) !== 0) {
      await chmod(entry, status.mode & 0o7700);
      changed++;
    }
    if (!status.isDirectory()) return;
    for (const name of await readdir(entry)) await visit(path.join(entry, name), depth + 1);
  };
  await visit(directory, 0);
  return changed;
}
