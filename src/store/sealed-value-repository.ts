/**
 * Every sealed column of the schema, and how to find and replace its values, for master-key rotation.
 * A new sealed column (by convention named `*_sealed`) must be listed here with the associated data it is
 * sealed with; a test fails when the schema has a `*_sealed` column this list does not name.
 */

import {
  deliveryPayloadLabel,
  developmentMessageLabel,
  enrollmentKeyLabel,
  enrollmentUriLabel,
  idempotencyResponseLabel,
  operatorTotpKeyLabel,
  platformKeyLabel,
  terminalKeyLabel,
  verificationCodeLabel,
  webhookSecretLabel,
} from '../domain/sealed-labels.js';
import type { SqlExecutor } from '../services/database.js';
import type { SealedValueStore, StaleSealedValue } from '../services/keys/key-rotation.js';

/** A sealed column: where it is, which columns identify a row, and its associated data. */
export interface SealedColumn {
  readonly table: string;
  readonly column: string;
  readonly keyColumns: readonly string[];
  label(rowKey: readonly string[]): string;
}

const first = (rowKey: readonly string[]): string => rowKey[0] ?? '';

/** The sealed columns of the schema. */
export const sealedColumns: readonly SealedColumn[] = Object.freeze([
  {
    table: 'platform_keys',
    column: 'key_sealed',
    keyColumns: ['name'],
    label: (rowKey) => platformKeyLabel(first(rowKey)),
  },
  {
    table: 'payers',
    column: 'verification_code_sealed',
    keyColumns: ['id'],
    label: (rowKey) => verificationCodeLabel(first(rowKey)),
  },
  {
    table: 'terminals',
    column: 'key_sealed',
    keyColumns: ['id'],
    label: (rowKey) => terminalKeyLabel(first(rowKey)),
  },
  {
    table: 'deliveries',
    column: 'payload_sealed',
    keyColumns: ['id'],
    label: (rowKey) => deliveryPayloadLabel(first(rowKey)),
  },
  {
    table: 'enrollments',
    column: 'key_sealed',
    keyColumns: ['id'],
    label: (rowKey) => enrollmentKeyLabel(first(rowKey)),
  },
  {
    table: 'enrollments',
    column: 'uri_sealed',
    keyColumns: ['id'],
    label: (rowKey) => enrollmentUriLabel(first(rowKey)),
  },
  {
    table: 'development_outbox',
    column: 'message_sealed',
    keyColumns: ['delivery_id'],
    label: (rowKey) => developmentMessageLabel(first(rowKey)),
  },
  {
    table: 'merchants',
    column: 'webhook_secret_sealed',
    keyColumns: ['id'],
    label: (rowKey) => webhookSecretLabel(first(rowKey)),
  },
  {
    table: 'operators',
    column: 'totp_key_sealed',
    keyColumns: ['id'],
    label: (rowKey) => operatorTotpKeyLabel(first(rowKey)),
  },
  {
    table: 'idempotency_keys',
    column: 'response_body',
    keyColumns: ['scope', 'key'],
    label: (rowKey) => idempotencyResponseLabel(rowKey[0] ?? '', rowKey[1] ?? ''),
  },
]);

const identifierPattern = /^[a-z_][a-z0-9_]*$/;

function columnOf(name: string): SealedColumn {
  const found = sealedColumns.find((entry) => `${entry.table}.${entry.column}` === name);
  if (found === undefined) throw new RangeError(`${name} is not a sealed column`);
  // Table and column names come from the list above, never from input; checked anyway before use in SQL.
  for (const identifier of [found.table, found.column, ...found.keyColumns]) {
    if (!identifierPattern.test(identifier)) throw new RangeError(`bad identifier ${identifier}`);
  }
  return found;
}

/** The SealedValueStore over SQL. */
export const sqlSealedValueStore: SealedValueStore = Object.freeze({
  columns: Object.freeze(sealedColumns.map((entry) => `${entry.table}.${entry.column}`)),

  async selectStale(
    tx: SqlExecutor,
    name: string,
    currentKeyId: string,
    limit: number,
  ): Promise<StaleSealedValue[]> {
    const entry = columnOf(name);
    const prefix = `v1.${currentKeyId}.`;
    const keys = entry.keyColumns.map((column, index) => `${column}::text AS k${index}`).join(', ');
    const rows = await tx.query<Record<string, string>>(
      `SELECT ${keys}, ${entry.column} AS sealed FROM ${entry.table}
        WHERE left(${entry.column}, 3) = 'v1.' AND left(${entry.column}, $1) <> $2
        LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [prefix.length, prefix, limit],
    );
    return rows.map((row) => {
      const rowKey = entry.keyColumns.map((_column, index) => String(row[`k${index}`]));
      return { rowKey, sealed: String(row['sealed']), associatedData: entry.label(rowKey) };
    });
  },

  async replace(
    tx: SqlExecutor,
    name: string,
    rowKey: readonly string[],
    oldSealed: string,
    newSealed: string,
  ): Promise<boolean> {
    const entry = columnOf(name);
    const where = entry.keyColumns.map((column, index) => `${column}::text = $${index + 3}`).join(' AND ');
    const rows = await tx.query(
      `UPDATE ${entry.table} SET ${entry.column} = $1 WHERE ${entry.column} = $2 AND ${where}
       RETURNING 1 AS replaced`,
      [newSealed, oldSealed, ...rowKey],
    );
    return rows.length === 1;
  },

  async countByKeyId(tx: SqlExecutor, name: string): Promise<Map<string, number>> {
    const entry = columnOf(name);
    const rows = await tx.query<{ key_id: string; value_count: bigint | number }>(
      `SELECT split_part(${entry.column}, '.', 2) AS key_id, count(*) AS value_count FROM ${entry.table}
        WHERE left(${entry.column}, 3) = 'v1.' GROUP BY 1`,
    );
    return new Map(rows.map((row) => [row.key_id, Number(row.value_count)]));
  },
});
