/**
 * The command-line terminal's key file: the OCRA key and the P-256 signing key, encrypted with AES-256-GCM
 * under a key derived from the payer's verification code with Argon2id (memory-hard, so that each guess
 * of a stolen file costs 64 MiB and a fraction of a second). The file names the terminal, the payer and
 * the platform in clear (they are bound to the ciphertext as associated data, so they cannot be swapped);
 * nothing secret is ever written unencrypted. Written with mode 0600 in a 0700 directory.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import argon2 from 'argon2';

/** The format tag of the file. */
export const terminalFileFormat = 'countersign-terminal/1';

/** Argon2id parameters of new files: 64 MiB, 3 passes, 1 lane. */
export const terminalFileKdf = Object.freeze({ memoryKibibytes: 65536, iterations: 3, parallelism: 1 });

/** Where the file is unless `--file` says otherwise. */
export function defaultTerminalFile(): string {
  return path.join(os.homedir(), '.countersign', 'terminal.json');
}

/** What the file says in clear. */
export interface TerminalIdentity {
  readonly terminalId: string;
  readonly payerId: string;
  readonly platformUrl: string;
  readonly suite: string;
  readonly label: string | null;
}

/** What the file keeps encrypted. */
export interface TerminalSecrets {
  readonly ocraKeyHex: string;
  /** PKCS #8 of the P-256 signing key, base64url. */
  readonly signingKeyPkcs8: string;
}

interface TerminalFile extends TerminalIdentity {
  readonly format: string;
  readonly kdf: {
    readonly name: 'argon2id';
    readonly memoryKibibytes: number;
    readonly iterations: number;
    readonly parallelism: number;
    readonly salt: string;
  };
  readonly cipher: {
    readonly name: 'AES-256-GCM';
    readonly iv: string;
    readonly ciphertext: string;
    readonly tag: string;
  };
}

/** The file is missing, unreadable or not a terminal file; or the verification code does not open it. */
export class TerminalFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TerminalFileError';
  }
}

function associatedData(identity: TerminalIdentity): Buffer {
  return Buffer.from(
    JSON.stringify([
      terminalFileFormat,
      identity.terminalId,
      identity.payerId,
      identity.platformUrl,
      identity.suite,
    ]),
    'utf8',
  );
}

async function deriveKey(verificationCode: string, kdf: TerminalFile['kdf']): Promise<Buffer> {
  return argon2.hash(verificationCode, {
    type: argon2.argon2id,
    raw: true,
    salt: Buffer.from(kdf.salt, 'base64url'),
    memoryCost: kdf.memoryKibibytes,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
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
  const kdf = { name: 'argon2id' as const, ...terminalFileKdf, salt: randomBytes(16).toString('base64url') };
  const key = await deriveKey(verificationCode, kdf);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associatedData(identity));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
  const content: TerminalFile = {
    format: terminalFileFormat,
    ...identity,
    kdf,
    cipher: {
      name: 'AES-256-GCM',
      iv: iv.toString('base64url'),
      ciphertext: ciphertext.toString('base64url'),
      tag: cipher.getAuthTag().toString('base64url'),
    },
  };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** Reads the file's clear part without the verification code. */
export async function readTerminalIdentity(
  file: string,
): Promise<TerminalIdentity & { readonly kdf: TerminalFile['kdf'] }> {
  let content: TerminalFile;
  try {
    content = JSON.parse(await readFile(file, 'utf8')) as TerminalFile;
  } catch {
    throw new TerminalFileError(
      `no terminal file at ${file} (enroll first: countersign terminal enroll <uri>)`,
    );
  }
  if (content.format !== terminalFileFormat || content.kdf?.name !== 'argon2id') {
    throw new TerminalFileError(`${file} is not a terminal file of this version`);
  }
  return content;
}

/** Opens the file with the verification code; a wrong code and a damaged file give the same error. */
export async function openTerminalFile(
  file: string,
  verificationCode: string,
): Promise<{ identity: TerminalIdentity; secrets: TerminalSecrets }> {
  const content = (await readTerminalIdentity(file)) as TerminalFile;
  const key = await deriveKey(verificationCode, content.kdf);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(content.cipher.iv, 'base64url'));
    decipher.setAAD(associatedData(content));
    decipher.setAuthTag(Buffer.from(content.cipher.tag, 'base64url'));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(content.cipher.ciphertext, 'base64url')),
      decipher.final(),
    ]);
    const identity: TerminalIdentity = {
      terminalId: content.terminalId,
      payerId: content.payerId,
      platformUrl: content.platformUrl,
      suite: content.suite,
      label: content.label,
    };
    return { identity, secrets: JSON.parse(plaintext.toString('utf8')) as TerminalSecrets };
  } catch {
    throw new TerminalFileError('the verification code does not open this terminal file');
  }
}
