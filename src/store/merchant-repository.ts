/**
 * Merchants and their API keys in SQL. Keys are found by their keyed hash (unique), never by the key.
 */
import type { ApiKeyRecord, MerchantRecord } from '../domain/merchant.js';
import type { SqlExecutor } from '../services/database.js';
import type { MerchantStore } from '../services/merchants/merchant-stores.js';

interface MerchantRow {
  [column: string]: unknown;
  id: string;
  webhook_url: string | null;
  webhook_secret_sealed: string;
  created_at_ms: bigint;
  updated_at_ms: bigint;
}

interface ApiKeyRow {
  [column: string]: unknown;
  id: string;
  merchant_id: string;
  prefix: string;
  key_hash: string;
  status: 'active' | 'revoked';
  created_at_ms: bigint;
  expires_at_ms: bigint | null;
  revoked_at_ms: bigint | null;
}

const nullableNumber = (value: bigint | null): number | null => (value === null ? null : Number(value));

function apiKeyFromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    prefix: row.prefix,
    keyHash: row.key_hash,
    status: row.status,
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: nullableNumber(row.expires_at_ms),
    revokedAtMs: nullableNumber(row.revoked_at_ms),
  };
}

async function insertMerchant(tx: SqlExecutor, merchant: MerchantRecord): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO merchants (id, webhook_url, webhook_secret_sealed, created_at_ms, updated_at_ms)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      merchant.id,
      merchant.webhookUrl,
      merchant.webhookSecretSealed,
      merchant.createdAtMs,
      merchant.updatedAtMs,
    ],
  );
  return rows.length === 1;
}

async function selectMerchant(tx: SqlExecutor, id: string): Promise<MerchantRecord | undefined> {
  const [row] = await tx.query<MerchantRow>('SELECT * FROM merchants WHERE id = $1', [id]);
  if (row === undefined) return undefined;
  return {
    id: row.id,
    webhookUrl: row.webhook_url,
    webhookSecretSealed: row.webhook_secret_sealed,
    createdAtMs: Number(row.created_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

async function listMerchants(
  tx: SqlExecutor,
  afterId: string | undefined,
  limit: number,
): Promise<{ id: string; name: string; webhookUrl: string | null }[]> {
  const rows = await tx.query<{ id: string; name: string; webhook_url: string | null }>(
    `SELECT m.id, p.name, m.webhook_url FROM merchants m JOIN payees p ON p.id = m.id
      WHERE $1::text IS NULL OR m.id > $1 ORDER BY m.id LIMIT $2`,
    [afterId ?? null, limit],
  );
  return rows.map((row) => ({ id: row.id, name: row.name, webhookUrl: row.webhook_url }));
}

async function updateWebhookUrl(
  tx: SqlExecutor,
  id: string,
  webhookUrl: string | null,
  nowMs: number,
): Promise<void> {
  await tx.query('UPDATE merchants SET webhook_url = $2, updated_at_ms = $3 WHERE id = $1', [
    id,
    webhookUrl,
    nowMs,
  ]);
}

async function updateWebhookSecret(
  tx: SqlExecutor,
  id: string,
  secretSealed: string,
  nowMs: number,
): Promise<void> {
  await tx.query('UPDATE merchants SET webhook_secret_sealed = $2, updated_at_ms = $3 WHERE id = $1', [
    id,
    secretSealed,
    nowMs,
  ]);
}

async function insertApiKey(tx: SqlExecutor, key: ApiKeyRecord): Promise<void> {
  await tx.query(
    `INSERT INTO merchant_api_keys (id, merchant_id, prefix, key_hash, status, created_at_ms, expires_at_ms,
       revoked_at_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      key.id,
      key.merchantId,
      key.prefix,
      key.keyHash,
      key.status,
      key.createdAtMs,
      key.expiresAtMs,
      key.revokedAtMs,
    ],
  );
}

async function selectApiKeyByHash(tx: SqlExecutor, keyHash: string): Promise<ApiKeyRecord | undefined> {
  const [row] = await tx.query<ApiKeyRow>('SELECT * FROM merchant_api_keys WHERE key_hash = $1', [keyHash]);
  return row === undefined ? undefined : apiKeyFromRow(row);
}

async function selectApiKey(
  tx: SqlExecutor,
  merchantId: string,
  id: string,
  lock: boolean,
): Promise<ApiKeyRecord | undefined> {
  const [row] = await tx.query<ApiKeyRow>(
    `SELECT * FROM merchant_api_keys WHERE merchant_id = $1 AND id = $2${lock ? ' FOR UPDATE' : ''}`,
    [merchantId, id],
  );
  return row === undefined ? undefined : apiKeyFromRow(row);
}

async function listApiKeys(tx: SqlExecutor, merchantId: string, limit: number): Promise<ApiKeyRecord[]> {
  const rows = await tx.query<ApiKeyRow>(
    'SELECT * FROM merchant_api_keys WHERE merchant_id = $1 ORDER BY created_at_ms, id LIMIT $2',
    [merchantId, limit],
  );
  return rows.map(apiKeyFromRow);
}

async function countUsableApiKeys(tx: SqlExecutor, merchantId: string, nowMs: number): Promise<number> {
  const [row] = await tx.query<{ count: bigint }>(
    `SELECT count(*) AS count FROM merchant_api_keys
     WHERE merchant_id = $1 AND status = 'active' AND (expires_at_ms IS NULL OR expires_at_ms > $2)`,
    [merchantId, nowMs],
  );
  return Number(row?.count ?? 0n);
}

async function revokeApiKey(tx: SqlExecutor, id: string, nowMs: number): Promise<void> {
  await tx.query(
    `UPDATE merchant_api_keys SET status = 'revoked', revoked_at_ms = $2 WHERE id = $1 AND status = 'active'`,
    [id, nowMs],
  );
}

async function setApiKeyExpiry(tx: SqlExecutor, id: string, expiresAtMs: number): Promise<void> {
  await tx.query('UPDATE merchant_api_keys SET expires_at_ms = $2 WHERE id = $1', [id, expiresAtMs]);
}

/** The SQL implementation of MerchantStore. */
export const sqlMerchantStore: MerchantStore = Object.freeze({
  insertMerchant,
  selectMerchant,
  listMerchants,
  updateWebhookUrl,
  updateWebhookSecret,
  insertApiKey,
  selectApiKeyByHash,
  selectApiKey,
  listApiKeys,
  countUsableApiKeys,
  revokeApiKey,
  setApiKeyExpiry,
});
