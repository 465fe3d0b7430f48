/**
 * The command-line terminal's key file: the file vault of `src/terminal-core/terminal-vault.ts` (the OCRA
 * key and the P-256 signing key sealed under the verification code, Argon2id and AES-256-GCM) as JSON on
 * disk. This module keeps what only the command line does: where the file is, writing it with mode 0600
 * in a 0700 directory (atomically), and Argon2id itself, from the native package, which WebCrypto lacks.
 * Nothing secret is ever written unencrypted.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';
import {
  type Argon2idParameters,
  isTerminalFileVault,
  openTerminalVault,
  sealTerminalFile,
  type TerminalFileVault,
  type TerminalIdentity,
  type TerminalSecrets,
} from '../../terminal-core/terminal-vault.js';

/** Where the file is unless `--file` says otherwise. */
export function defaultTerminalFile(): string {
  return path.join(os.homedir(), '.countersign', 'terminal.json');
}

/** The file is missing, unreadable or not a terminal file; or the verification code does not open it. */
export class TerminalFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalFileError';
  }
}

/** Argon2id of the native package: the 32 raw key bytes of a file vault (the vault tests derive with it too). */
export async function argon2id(
  verificationCode: string,
  parameters: Argon2idParameters,
): Promise<Uint8Array> {
  return argon2.hash(verificationCode, {
    type: argon2.argon2id,
    raw: true,
    salt: Buffer.from(parameters.salt, 'base64url'),
    memoryCost: parameters.memoryKibibytes,
    timeCost: parameters.iterations,
    parallelism: parameters.parallelism,
    hashLength: 32,
  });
}

/** Encrypts and writes the file atomically (a temporary file renamed over it). */
export async function writeTerminalFile(
  file: string,
  identity: TerminalIdentity,
  secrets: TerminalSecrets,
  verificationCode: string,
): Promise<void> {
  const vault = await sealTerminalFile(identity, secrets, verificationCode, argon2id);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(vault, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** Reads the file's clear part without the verification code. */
export async function readTerminalIdentity(file: string): Promise<TerminalFileVault> {
  let content: unknown;
  try {
    content = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new TerminalFileError(
      `no terminal file at ${file} (enroll first: countersign terminal enroll <uri>)`,
    );
  }
  if (!isTerminalFileVault(content)) {
    throw new TerminalFileError(`${file} is not a terminal file of this version`);
  }
  return content;
}

/** Opens the file with the verification code; a wrong code and a damaged file give the same error. */
export async function openTerminalFile(
  file: string,
  verificationCode: string,
): Promise<{ identity: TerminalIdentity; secrets: TerminalSecrets }> {
  const vault = await readTerminalIdentity(file);
  const secrets = await openTerminalVault(vault, verificationCode, argon2id);
  if (secrets === undefined) {
    throw new TerminalFileError('the verification code does not open this terminal file');
  }
  const identity: TerminalIdentity = {
    terminalId: vault.terminalId,
    payerId: vault.payerId,
    platformUrl: vault.platformUrl,
    suite: vault.suite,
    label: vault.label,
  };
  return { identity, secrets };
}
