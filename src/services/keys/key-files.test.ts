// Proves that the master key and operator token are taken from the environment or created once, privately and atomically, and never replaced — even when several starts race.
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretSettingLimits } from '../../domain/limits.js';
import { loadOrCreateMasterKey, loadOrCreateOperatorToken } from './key-files.js';

const posix = process.platform !== 'win32';

describe('key files', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'countersign-keys-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  describe('loadOrCreateMasterKey', () => {
    it('creates master.key once, with 32 random bytes as hex and mode 0600, and reads it back after', async () => {
      const created = await loadOrCreateMasterKey(dataDir);
      expect(created).toMatch(/^[0-9a-f]{64}$/);
      const filePath = path.join(dataDir, 'master.key');
      expect(await readFile(filePath, 'utf8')).toBe(`${created}\n`);
      if (posix) expect((await stat(filePath)).mode & 0o777).toBe(0o600);
      expect(await loadOrCreateMasterKey(dataDir)).toBe(created);
      expect(await readdir(dataDir)).toEqual(['master.key']);
    });

    it('creates the data directory when it does not exist', async () => {
      const nested = path.join(dataDir, 'a', 'b');
      const key = await loadOrCreateMasterKey(nested);
      expect(await readFile(path.join(nested, 'master.key'), 'utf8')).toBe(`${key}\n`);
    });

    it('uses the key from the environment and writes no file', async () => {
      const fromEnvironment = 'AB'.repeat(32);
      expect(await loadOrCreateMasterKey(dataDir, fromEnvironment)).toBe('ab'.repeat(32));
      expect(await readdir(dataDir)).toEqual([]);
    });

    it('refuses a malformed key from the environment without echoing it, and writes nothing', async () => {
      const bad = 'zz'.repeat(32);
      await expect(loadOrCreateMasterKey(dataDir, bad)).rejects.toThrow(/64 hex digits/);
      await expect(loadOrCreateMasterKey(dataDir, bad)).rejects.not.toThrow(bad);
      await expect(loadOrCreateMasterKey(dataDir, '')).rejects.toThrow(/64 hex digits/);
      expect(await readdir(dataDir)).toEqual([]);
    });

    it('refuses a malformed master.key and leaves it untouched', async () => {
      const filePath = path.join(dataDir, 'master.key');
      await writeFile(filePath, 'not a key\n');
      await expect(loadOrCreateMasterKey(dataDir)).rejects.toThrow(/does not hold a valid value/);
      await expect(loadOrCreateMasterKey(dataDir)).rejects.not.toThrow(/not a key/);
      expect(await readFile(filePath, 'utf8')).toBe('not a key\n');
    });

    it('gives every one of several concurrent first starts the same key, and leaves no temporary file', async () => {
      const keys = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateMasterKey(dataDir)));
      expect(new Set(keys).size).toBe(1);
      expect(await readFile(path.join(dataDir, 'master.key'), 'utf8')).toBe(`${keys[0]}\n`);
      expect(await readdir(dataDir)).toEqual(['master.key']);
    });
  });

  describe('loadOrCreateOperatorToken', () => {
    it('creates operator.token once with 256 random bits and the cs_op_ prefix, mode 0600', async () => {
      const first = await loadOrCreateOperatorToken(dataDir);
      expect(first.created).toBe(true);
      expect(first.token).toMatch(/^cs_op_[A-Za-z0-9_-]{43}$/);
      const filePath = path.join(dataDir, 'operator.token');
      expect(await readFile(filePath, 'utf8')).toBe(`${first.token}\n`);
      if (posix) expect((await stat(filePath)).mode & 0o777).toBe(0o600);
      expect(await loadOrCreateOperatorToken(dataDir)).toEqual({ token: first.token, created: false });
    });

    it('uses the token from the environment, and refuses one that is too short', async () => {
      const token = 'an-operator-chosen-token-of-40-characters';
      expect(await loadOrCreateOperatorToken(dataDir, token)).toEqual({ token, created: false });
      // The shortest token config.ts and the README accept starts the platform too.
      const shortest = 'x'.repeat(secretSettingLimits.bearerTokenLengthMin);
      expect(await loadOrCreateOperatorToken(dataDir, shortest)).toEqual({ token: shortest, created: false });
      await expect(loadOrCreateOperatorToken(dataDir, shortest.slice(1))).rejects.toThrow(/22 to 512/);
      await expect(loadOrCreateOperatorToken(dataDir, 'short')).rejects.toThrow(/22 to 512/);
      await expect(loadOrCreateOperatorToken(dataDir, `${'x'.repeat(31)} y`)).rejects.toThrow(/22 to 512/);
      expect(await readdir(dataDir)).toEqual([]);
    });

    it('gives concurrent first starts the same token, and tells exactly one of them it was created', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateOperatorToken(dataDir)));
      expect(new Set(results.map((result) => result.token)).size).toBe(1);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(await readdir(dataDir)).toEqual(['operator.token']);
    });
  });
});
