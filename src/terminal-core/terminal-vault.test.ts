// Proves that the terminal vault opens the files and browser records earlier releases wrote (fixed fixtures), that a new vault opens only with its verification code and its own clear part, and that a file keeps the GCM tag where the earlier Node.js cipher put it.
import { createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  vaultIdentity as identity,
  vaultSecrets as secrets,
  vaultFixture,
} from '../../test/support/terminal-vault.js';
import { argon2id } from '../cli/commands/terminal-vault.js';
import { limits } from '../domain/limits.js';
import {
  type BrowserVault,
  isBrowserVault,
  isTerminalFileVault,
  openTerminalVault,
  sealBrowserVault,
  sealTerminalFile,
  type TerminalFileVault,
  vaultFormats,
} from './terminal-vault.js';

describe('vaults written by an earlier release', () => {
  it('opens the command line file (Argon2id, tag apart) with its verification code only', async () => {
    const vault = vaultFixture('terminal-file.json');
    expect(isTerminalFileVault(vault)).toBe(true);
    expect(isBrowserVault(vault)).toBe(false);
    const file = vault as TerminalFileVault;
    expect(await openTerminalVault(file, '2468', argon2id)).toEqual(secrets);
    expect(await openTerminalVault(file, '2469', argon2id)).toBeUndefined();
    await expect(openTerminalVault(file, '2468')).rejects.toThrow('needs Argon2id');
  });

  it('opens the browser record (PBKDF2, tag appended) with its verification code only', async () => {
    const vault = vaultFixture('browser-record.json');
    expect(isBrowserVault(vault)).toBe(true);
    expect(isTerminalFileVault(vault)).toBe(false);
    const record = vault as BrowserVault;
    expect(record.label).toBe('Phone');
    expect(await openTerminalVault(record, '4321')).toEqual(secrets);
    expect(await openTerminalVault(record, '1234')).toBeUndefined();
  });
});

describe('new vaults', () => {
  it('seal a file that opens with its code, and that the earlier Node.js cipher opens too', async () => {
    const vault = await sealTerminalFile(
      { ...identity, extra: 'not written' } as typeof identity,
      secrets,
      '2468',
      argon2id,
    );
    expect(Object.keys(vault)).toEqual([
      'format',
      'terminalId',
      'payerId',
      'platformUrl',
      'suite',
      'label',
      'kdf',
      'cipher',
    ]);
    expect(vault).toMatchObject({
      format: vaultFormats.file,
      kdf: { name: 'argon2id', memoryKibibytes: 65536, iterations: 3, parallelism: 1 },
    });
    expect(JSON.stringify(vault)).not.toContain(secrets.ocraKeyHex);
    expect(await openTerminalVault(vault, '2468', argon2id)).toEqual(secrets);
    // The reader of the earlier releases: node:crypto with the tag set apart.
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(await argon2id('2468', vault.kdf)),
      Buffer.from(vault.cipher.iv, 'base64url'),
    );
    decipher.setAAD(
      Buffer.from(
        JSON.stringify([vault.format, vault.terminalId, vault.payerId, vault.platformUrl, vault.suite]),
      ),
    );
    decipher.setAuthTag(Buffer.from(vault.cipher.tag, 'base64url'));
    const plaintext = Buffer.concat([
      decipher.update(Buffer.from(vault.cipher.ciphertext, 'base64url')),
      decipher.final(),
    ]);
    expect(JSON.parse(plaintext.toString('utf8'))).toEqual(secrets);
  });

  it('seal a browser record that refuses a wrong code and a clear part changed to another payer', async () => {
    const record = await sealBrowserVault(identity, secrets, '4321');
    expect(record.kdf).toMatchObject({ name: 'PBKDF2-SHA256', iterations: 600_000 });
    expect(await openTerminalVault(record, '4321')).toEqual(secrets);
    expect(await openTerminalVault(record, '4322')).toBeUndefined();
    expect(await openTerminalVault({ ...record, payerId: 'mallory' }, '4321')).toBeUndefined();
    // The label is not bound: renaming a terminal does not lock its keys away.
    expect(await openTerminalVault({ ...record, label: 'renamed' }, '4321')).toEqual(secrets);
  });

  it('use a fresh salt and IV each time', async () => {
    const first = await sealBrowserVault(identity, secrets, '4321');
    const second = await sealBrowserVault(identity, secrets, '4321');
    expect(first.kdf.salt).not.toBe(second.kdf.salt);
    expect(first.cipher.iv).not.toBe(second.cipher.iv);
  });

  it('treat a damaged record like a wrong code', async () => {
    const record = await sealBrowserVault(identity, secrets, '4321');
    expect(
      await openTerminalVault({ ...record, kdf: { ...record.kdf, salt: '***' } }, '4321'),
    ).toBeUndefined();
    const first = record.cipher.ciphertext.startsWith('A') ? 'B' : 'A';
    const cipher = { ...record.cipher, ciphertext: `${first}${record.cipher.ciphertext.slice(1)}` };
    expect(await openTerminalVault({ ...record, cipher }, '4321')).toBeUndefined();
  });
});

describe('the cost a vault may ask of its opener', () => {
  it('refuses a file whose Argon2id costs pass the limits, before deriving anything', async () => {
    const file = vaultFixture('terminal-file.json') as TerminalFileVault;
    let derivations = 0;
    const counted: typeof argon2id = (code, parameters) => {
      derivations += 1;
      return argon2id(code, parameters);
    };
    const altered = [
      { memoryKibibytes: limits.vaultArgon2idMemoryKibibytesMax + 1 },
      { iterations: limits.vaultArgon2idIterationsMax + 1 },
      { parallelism: limits.vaultArgon2idParallelismMax + 1 },
      { iterations: 0 },
      { memoryKibibytes: 1.5 },
    ];
    for (const costs of altered) {
      expect(
        await openTerminalVault({ ...file, kdf: { ...file.kdf, ...costs } }, '2468', counted),
      ).toBeUndefined();
    }
    expect(derivations).toBe(0);
    // The file as written is within them, and opens.
    expect(await openTerminalVault(file, '2468', counted)).toEqual(secrets);
    expect(derivations).toBe(1);
  });

  it('refuses a browser record whose PBKDF2 iterations pass the limit', async () => {
    const record = vaultFixture('browser-record.json') as BrowserVault;
    const iterations = limits.vaultPbkdf2IterationsMax + 1;
    expect(
      await openTerminalVault({ ...record, kdf: { ...record.kdf, iterations } }, '4321'),
    ).toBeUndefined();
    expect(await openTerminalVault(record, '4321')).toEqual(secrets);
  });
});
