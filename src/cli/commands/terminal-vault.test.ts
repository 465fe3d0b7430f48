// Proves that the command-line terminal's key file opens only with its verification code, keeps no secret in clear, cannot have its clear part swapped, and that a file written by an earlier release still opens.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  vaultIdentity as identity,
  vaultSecrets as secrets,
  vaultFixturePath,
} from '../../../test/support/terminal-vault.js';
import { openTerminalFile, TerminalFileError, writeTerminalFile } from './terminal-vault.js';

describe('the terminal key file', () => {
  let directory: string;
  let file: string;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'countersign-vault-'));
    file = path.join(directory, 'nested', 'terminal.json');
    await writeTerminalFile(file, identity, secrets, '2468');
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('opens with the verification code it was written with', async () => {
    expect(await openTerminalFile(file, '2468')).toEqual({ identity, secrets });
  });

  it('is private to its owner and holds no secret in clear', async () => {
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(secrets.ocraKeyHex);
    expect(text).not.toContain(secrets.signingKeyPkcs8);
    expect(text).not.toContain('2468');
    expect(JSON.parse(text)).toMatchObject({
      ...identity,
      kdf: { name: 'argon2id', memoryKibibytes: 65536 },
    });
  });

  it('refuses a wrong verification code, and a clear part changed to another payer', async () => {
    await expect(openTerminalFile(file, '1357')).rejects.toThrow(TerminalFileError);
    const changed = path.join(directory, 'changed.json');
    const content = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(changed, JSON.stringify({ ...content, payerId: 'mallory' }));
    await expect(openTerminalFile(changed, '2468')).rejects.toThrow('does not open');
  });

  it('opens a file written by an earlier release, byte for byte as it was written', async () => {
    const written = vaultFixturePath('terminal-file.json');
    expect(await openTerminalFile(written, '2468')).toEqual({ identity, secrets });
    await expect(openTerminalFile(written, '1357')).rejects.toThrow('does not open');
  });

  it('says where to start when there is no file', async () => {
    await expect(openTerminalFile(path.join(directory, 'missing.json'), '2468')).rejects.toThrow(
      'enroll first',
    );
  });
});
