/**
 * The two secrets a server needs before it can start: the master key (from which sealing and hashing keys
 * are derived) and the operator token (which authenticates the operator API). Each comes from the
 * environment when given there; otherwise from a file in the data directory, created on first start.
 *
 * A file is created so that it is never seen half-written and never replaced: the value is written and
 * flushed to a fresh temporary file (`flag: 'wx'`, mode 0600), which is then hard-linked to the final
 * name. Unlike `rename`, `link` fails when the name exists, so when two processes start at once exactly
 * one file wins and both use its value. Replacing a master key would make every sealed value unreadable,
 * which is why nothing here ever overwrites one. (`link` needs a file system with hard links: every
 * POSIX one, and NTFS.)
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { httpLimits, secretSettingLimits } from '../../domain/limits.js';

/** File name of the master key in the data directory. */
export const masterKeyFileName = 'master.key';
/** File name of the operator token in the data directory. */
export const operatorTokenFileName = 'operator.token';
/** Prefix of operator tokens, so that a leaked token is recognisable in a secret scanner. */
export const operatorTokenPrefix = 'cs_op_';

const masterKeyPattern = /^[0-9a-fA-F]{64}$/;
// 32 random bytes are 43 base64url characters; at least 22 (128 bits) are accepted from a file.
const operatorTokenPattern = /^cs_op_[A-Za-z0-9_-]{22,256}$/;
// A token chosen by the operator (`OPERATOR_TOKEN`): printable ASCII without spaces, as long as config.ts
// and the README require (128 bits or more), and no longer than a bearer header may carry.
const environmentTokenLengthMin = secretSettingLimits.bearerTokenLengthMin;
const environmentTokenLengthMax = httpLimits.bearerTokenLengthMax;
const environmentTokenPattern = new RegExp(
  `^[\\x21-\\x7e]{${environmentTokenLengthMin},${environmentTokenLengthMax}}$`,
);

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Reads a one-line secret file; undefined when it does not exist. Throws, never echoing the content, when malformed. */
async function readSecretFile(filePath: string, pattern: RegExp): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const value = text.replace(/\r?\n$/, '');
  if (!pattern.test(value)) {
    // Never "repaired" by writing a new value: the old one may be what existing data was sealed with.
    throw new Error(`${filePath} exists but does not hold a valid value; fix or restore it by hand`);
  }
  return value;
}

async function syncDirectory(directory: string): Promise<void> {
  // Makes the new directory entry durable. Some platforms cannot open a directory for fsync; the file
  // itself is already flushed, so there the link is as durable as the platform allows.
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL'].includes(errorCode(error) ?? '')) throw error;
  }
}

/**
 * Reads the secret in `filePath`, or creates it with `generate()` if it does not exist. `created` is true
 * only for the caller whose file won; a caller that lost a race reads and returns the winner's value.
 */
async function readOrCreateSecretFile(
  filePath: string,
  pattern: RegExp,
  generate: () => string,
): Promise<{ value: string; created: boolean }> {
  const existing = await readSecretFile(filePath, pattern);
  if (existing !== undefined) return { value: existing, created: false };
  const directory = path.dirname(filePath);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const value = generate();
  const temporaryPath = `${filePath}.${randomBytes(8).toString('hex')}.tmp`;
  try {
    const handle = await open(temporaryPath, 'wx', 0o600);
    try {
      await handle.writeFile(`${value}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temporaryPath, filePath);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
      const winner = await readSecretFile(filePath, pattern);
      if (winner === undefined) throw new Error(`${filePath} vanished while it was being created`);
      return { value: winner, created: false };
    }
    await syncDirectory(directory);
    return { value, created: true };
  } finally {
    await rm(temporaryPath, { force: true });
  }
}

/**
 * The master key as 64 lowercase hex digits: `fromEnvironmentHex` when given (it must be 64 hex digits),
 * else the content of `<dataDir>/master.key`, created on first use from 32 random bytes.
 */
export async function loadOrCreateMasterKey(dataDir: string, fromEnvironmentHex?: string): Promise<string> {
  if (fromEnvironmentHex !== undefined) {
    if (!masterKeyPattern.test(fromEnvironmentHex)) {
      throw new Error('the master key from the environment must be 64 hex digits (32 bytes)');
    }
    return fromEnvironmentHex.toLowerCase();
  }
  const { value } = await readOrCreateSecretFile(
    path.join(dataDir, masterKeyFileName),
    masterKeyPattern,
    () => randomBytes(32).toString('hex'),
  );
  return value.toLowerCase();
}

/** The master key of `<dataDir>/master.key`, or undefined when there is none (nothing is created). */
export async function readMasterKey(dataDir: string): Promise<string | undefined> {
  return (await readSecretFile(path.join(dataDir, masterKeyFileName), masterKeyPattern))?.toLowerCase();
}

/**
 * Puts `masterKeyHex` into `<dataDir>/master.key` (a restore brings the key the backup needs); refuses to
 * replace a different key already there.
 */
export async function installMasterKey(dataDir: string, masterKeyHex: string): Promise<void> {
  if (!masterKeyPattern.test(masterKeyHex)) throw new Error('a master key is 64 hex digits (32 bytes)');
  const { value } = await readOrCreateSecretFile(
    path.join(dataDir, masterKeyFileName),
    masterKeyPattern,
    () => masterKeyHex.toLowerCase(),
  );
  if (value.toLowerCase() !== masterKeyHex.toLowerCase()) {
    throw new Error(`${path.join(dataDir, masterKeyFileName)} already holds another master key`);
  }
}

/**
 * The operator token: `fromEnvironment` when given (`OPERATOR_TOKEN`'s length, as config.ts checks it), else the content
 * of `<dataDir>/operator.token`, created on first use as `cs_op_` and 256 random bits in base64url.
 * `created` tells the caller to show the new token to the operator once.
 */
export async function loadOrCreateOperatorToken(
  dataDir: string,
  fromEnvironment?: string,
): Promise<{ token: string; created: boolean }> {
  if (fromEnvironment !== undefined) {
    if (!environmentTokenPattern.test(fromEnvironment)) {
      throw new Error(
        `the operator token from the environment must be ${environmentTokenLengthMin} to ${environmentTokenLengthMax} printable characters`,
      );
    }
    return { token: fromEnvironment, created: false };
  }
  const { value, created } = await readOrCreateSecretFile(
    path.join(dataDir, operatorTokenFileName),
    operatorTokenPattern,
    () => `${operatorTokenPrefix}${randomBytes(32).toString('base64url')}`,
  );
  return { token: value, created };
}
