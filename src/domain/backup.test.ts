// Proves the backup file's rules: a manifest line then the payload, and a restore refuses what is not a
// backup, another format version, a damaged payload, and a schema newer than the code.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type BackupManifest, BackupRefused, checkBackup, encodeBackup, parseBackup } from './backup.js';

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const payload = Buffer.from('the data directory, gzipped\n\u0000\u0001binary');
const manifest: BackupManifest = {
  format: 'countersign-backup',
  formatVersion: 1,
  engine: 'pglite',
  schemaVersion: '0002_second',
  createdAt: '2026-12-03T10:00:00.000Z',
  payloadBytes: payload.length,
  payloadSha256: sha256Hex(payload),
  masterKeyId: 'abc',
};
const known = ['0001_first', '0002_second'];

describe('backup files', () => {
  it('round-trips manifest and payload, binary included', () => {
    const parsed = parseBackup(encodeBackup(manifest, payload));
    expect(parsed.manifest).toEqual(manifest);
    expect(Buffer.from(parsed.payload)).toEqual(payload);
    expect(() => checkBackup(parsed, known, sha256Hex)).not.toThrow();
  });

  it('refuses a file that is not a backup', () => {
    expect(() => parseBackup(Buffer.from('just text'))).toThrow(BackupRefused);
    expect(() => parseBackup(Buffer.from('{"format":"other"}\nxx'))).toThrow(/bad manifest/);
    expect(() => parseBackup(Buffer.from('not json\nxx'))).toThrow(/not JSON/);
  });

  it('refuses a damaged payload, one byte changed or cut', () => {
    const file = encodeBackup(manifest, payload);
    const flipped = Buffer.from(file);
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 1;
    expect(() => checkBackup(parseBackup(flipped), known, sha256Hex)).toThrow(/checksum/);
    expect(() => checkBackup(parseBackup(file.subarray(0, file.length - 1)), known, sha256Hex)).toThrow(
      /checksum/,
    );
  });

  it('refuses another format version and a newer or unknown schema', () => {
    const other = parseBackup(encodeBackup({ ...manifest, formatVersion: 2 }, payload));
    expect(() => checkBackup(other, known, sha256Hex)).toThrow(/format version 2/);
    const newer = parseBackup(encodeBackup({ ...manifest, schemaVersion: '0003_third' }, payload));
    expect(() => checkBackup(newer, known, sha256Hex)).toThrow(/newer than this version/);
    const unknown = parseBackup(encodeBackup({ ...manifest, schemaVersion: '0001_renamed' }, payload));
    expect(() => checkBackup(unknown, known, sha256Hex)).toThrow(/does not know/);
  });
});
