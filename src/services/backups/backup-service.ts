/**
 * Online backups of the embedded database. A backup is PGlite's data directory, taken as one consistent
 * image while the server runs (`Database.snapshot`: a checkpoint, then the directory copied while no
 * statement runs; a transaction in flight at that moment is rolled back when the copy is opened, as after
 * a crash, so every transaction in the image committed before it), gzipped and prefixed with a manifest
 * (`domain/backup.ts`). It never holds the master key. On PostgreSQL the platform takes no backups of its
 * own: PostgreSQL's tools do it better (docs/operations.md).
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type BackupManifest, backupFormat, backupFormatVersion, encodeBackup } from '../../domain/backup.js';
import type { Clock } from '../../domain/clock.js';
import { CountersignError } from '../../domain/errors.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import type { Database, SqlExecutor } from '../database.js';
import type { AuditAppender } from '../method-dependencies.js';

const gzipAsync = promisify(gzip);

/** What a backup needs from storage. */
export interface BackupStore {
  /** The name of the last migration applied. */
  selectSchemaVersion(executor: SqlExecutor): Promise<string>;
}

/** What the backup service needs. */
export interface BackupDependencies {
  readonly database: Database;
  readonly clock: Clock;
  readonly store: BackupStore;
  readonly audit: AuditAppender;
  /** Id of the current master key, recorded in the manifest so a restore can tell the right key. */
  readonly masterKeyId: string;
}

/** A backup taken: its manifest and the whole file. */
export interface TakenBackup {
  readonly manifest: BackupManifest;
  readonly file: Buffer;
}

/** Takes backups of the embedded database. */
export class BackupService {
  constructor(private readonly deps: BackupDependencies) {}

  /** A consistent backup of the database now; admins only. `backup_unavailable` on PostgreSQL. */
  async create(actor: Actor): Promise<TakenBackup> {
    assertMayAct(actor, 'take_backup');
    const { database, clock, store, audit, masterKeyId } = this.deps;
    if (database.engine !== 'pglite') throw new CountersignError('backup_unavailable');
    const schemaVersion = await store.selectSchemaVersion(database);
    const image = await database.snapshot();
    const payload = await gzipAsync(image, { level: 6 });
    const nowMs = clock.nowMs();
    const manifest: BackupManifest = {
      format: backupFormat,
      formatVersion: backupFormatVersion,
      engine: 'pglite',
      schemaVersion,
      createdAt: new Date(nowMs).toISOString(),
      payloadBytes: payload.length,
      payloadSha256: createHash('sha256').update(payload).digest('hex'),
      masterKeyId,
    };
    // Recorded after the image is taken, so the backup does not contain its own entry.
    await database.transaction((tx) =>
      audit.appendIn(
        tx,
        [
          {
            event: 'backup_created',
            subject: null,
            detail: { bytes: payload.length, schemaVersion, actor: actorLabel(actor) },
          },
        ],
        nowMs,
      ),
    );
    return { manifest, file: encodeBackup(manifest, payload) };
  }
}
