/**
 * The backup file of the embedded database: one line of JSON, the manifest, then the payload (the gzipped
 * tar of PGlite's data directory). The manifest says what the payload is and how to check it: format
 * version, the schema version (the last migration applied), when it was taken, the payload's length and
 * SHA-256, and the id of the master key the database's sealed values need (an id, never the key: a backup
 * holds no key at all).
 *
 * Pure rules: encoding, parsing and the checks a restore makes before it writes anything.
 */
import { limits } from './limits.js';

/** The `format` field of every backup. */
export const backupFormat = 'countersign-backup';

/** The current format version; a restore refuses any other. */
export const backupFormatVersion = 1;

/** What a backup says about itself. */
export interface BackupManifest {
  readonly format: typeof backupFormat;
  readonly formatVersion: number;
  readonly engine: 'pglite';
  /** The name of the last migration applied, e.g. `0010_operators`. */
  readonly schemaVersion: string;
  readonly createdAt: string;
  readonly payloadBytes: number;
  readonly payloadSha256: string;
  /** Id of the master key the sealed values were sealed under (see `masterKeyId`). */
  readonly masterKeyId: string;
}

/** Why a file is not a backup a restore may use. */
export class BackupRefused extends Error {
  override readonly name = 'BackupRefused';
}

/** The file's bytes: the manifest line, then the payload. */
export function encodeBackup(manifest: BackupManifest, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(manifest)}\n`, 'utf8'), payload]);
}

const sha256Pattern = /^[0-9a-f]{64}$/;
const migrationPattern = /^\d{4}_[a-z0-9_]+(?:\.sql)?$/;

function isManifest(value: unknown): value is BackupManifest {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return (
    m['format'] === backupFormat &&
    typeof m['formatVersion'] === 'number' &&
    m['engine'] === 'pglite' &&
    typeof m['schemaVersion'] === 'string' &&
    migrationPattern.test(m['schemaVersion']) &&
    typeof m['createdAt'] === 'string' &&
    Number.isSafeInteger(m['payloadBytes']) &&
    typeof m['payloadSha256'] === 'string' &&
    sha256Pattern.test(m['payloadSha256']) &&
    typeof m['masterKeyId'] === 'string'
  );
}

/** Splits a file into manifest and payload; throws `BackupRefused` when it is not a backup at all. */
export function parseBackup(file: Uint8Array): { manifest: BackupManifest; payload: Uint8Array } {
  const newline = file.subarray(0, limits.backupManifestBytesMax).indexOf(0x0a);
  if (newline < 0) throw new BackupRefused('the file is not a Countersign backup (no manifest line)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(file.subarray(0, newline)).toString('utf8'));
  } catch {
    throw new BackupRefused('the file is not a Countersign backup (the manifest is not JSON)');
  }
  if (!isManifest(parsed)) throw new BackupRefused('the file is not a Countersign backup (bad manifest)');
  return { manifest: parsed, payload: file.subarray(newline + 1) };
}

/**
 * The checks before a restore writes anything: the format version this code reads, a payload of the
 * declared length and SHA-256 (`sha256Hex` computes it), and a schema this code knows (a backup of a
 * newer version would be opened by code that does not know its tables).
 */
export function checkBackup(
  backup: { manifest: BackupManifest; payload: Uint8Array },
  knownMigrations: readonly string[],
  sha256Hex: (bytes: Uint8Array) => string,
): void {
  const { manifest, payload } = backup;
  if (manifest.formatVersion !== backupFormatVersion) {
    throw new BackupRefused(
      `the backup has format version ${manifest.formatVersion}; this version reads ${backupFormatVersion}`,
    );
  }
  if (payload.length !== manifest.payloadBytes || sha256Hex(payload) !== manifest.payloadSha256) {
    throw new BackupRefused('the backup is damaged: its checksum does not match its content');
  }
  if (!knownMigrations.includes(manifest.schemaVersion)) {
    const newest = knownMigrations[knownMigrations.length - 1] ?? '';
    throw new BackupRefused(
      manifest.schemaVersion > newest
        ? `the backup has schema ${manifest.schemaVersion}, newer than this version's ${newest}: restore it with a newer Countersign`
        : `the backup has schema ${manifest.schemaVersion}, which this version does not know`,
    );
  }
}
