/**
 * Merchants and their credentials. A merchant is a payee (same ledger account kind) with API keys and a
 * webhook endpoint. API keys carry a recognisable prefix and 192 random bits, are shown once and stored as
 * keyed hashes; they can be listed by prefix, added, rotated (with a grace period) and revoked. The webhook
 * secret is sealed, because the platform must read it back to sign every delivery.
 */
import { randomBytes } from 'node:crypto';
import { CountersignError } from '../../domain/errors.js';
import { limits, merchantLimits } from '../../domain/limits.js';
import {
  type ApiKeyRecord,
  apiKeyDisplayCharacters,
  apiKeyPattern,
  apiKeyPrefix,
  apiKeyRandomBytes,
  isApiKeyUsable,
  webhookSecretPrefix,
  webhookSecretRandomBytes,
} from '../../domain/merchant.js';
import { type Actor, actorLabel, assertMayAct } from '../../domain/operator.js';
import { isPartyId, isPayeeName, partyIdRule } from '../../domain/payer.js';
import { webhookSecretLabel } from '../../domain/sealed-labels.js';
import type { SqlExecutor } from '../database.js';
import { newId } from '../ids.js';
import { checkWebhookUrl } from '../webhooks/webhook-target.js';
import type { MerchantDependencies } from './merchant-dependencies.js';

/** A new merchant as the operator submits it. */
export interface MerchantCreation {
  readonly id: string;
  readonly name: string;
  readonly webhookUrl?: string | undefined;
}

/** A merchant as shown to itself and to the operator. */
export interface MerchantView {
  readonly id: string;
  readonly name: string;
  readonly webhookUrl: string | null;
}

/** A created merchant: the API key and the webhook secret are shown this once and never again. */
export interface CreatedMerchant extends MerchantView {
  readonly apiKey: string;
  readonly apiKeyId: string;
  readonly webhookSecret: string;
}

/** A newly issued API key, shown once. */
export interface IssuedApiKey {
  readonly apiKey: string;
  readonly key: ApiKeyRecord;
}

function invalid(param: string, message: string): CountersignError {
  return new CountersignError('invalid_request', { param, message });
}

/** Merchants, API keys and webhook settings. */
export class MerchantService {
  constructor(private readonly deps: MerchantDependencies) {}

  /** Creates a merchant with its first API key and its webhook secret. Throws `payee_exists` if taken. */
  async create(creation: MerchantCreation, actor: Actor): Promise<CreatedMerchant> {
    assertMayAct(actor, 'manage_merchant');
    const { database, clock, secrets, partyStore, merchantStore, audit, merchantSettings } = this.deps;
    if (!isPartyId(creation.id)) throw invalid('id', `id must be ${partyIdRule}`);
    const name = creation.name.trim();
    if (!isPayeeName(name)) {
      throw invalid('name', `name must be 1–${limits.payeeNameLengthMax} characters`);
    }
    const webhookUrl =
      creation.webhookUrl === undefined
        ? null
        : checkWebhookUrl(creation.webhookUrl, merchantSettings.webhookAllowPrivateTargets);
    const webhookSecret = webhookSecretPrefix + randomBytes(webhookSecretRandomBytes).toString('base64url');
    const nowMs = clock.nowMs();
    const issued = await database.transaction(async (tx) => {
      const inserted = await partyStore.insertPayee(tx, {
        id: creation.id,
        name,
        kind: 'merchant',
        createdAtMs: nowMs,
      });
      if (!inserted) throw new CountersignError('payee_exists', { param: 'id' });
      await merchantStore.insertMerchant(tx, {
        id: creation.id,
        webhookUrl,
        webhookSecretSealed: secrets.box.seal(webhookSecret, webhookSecretLabel(creation.id)),
        createdAtMs: nowMs,
        updatedAtMs: nowMs,
      });
      await audit.appendIn(
        tx,
        [
          {
            event: 'merchant_created',
            subject: creation.id,
            detail: { webhook: webhookUrl !== null, actor: actorLabel(actor) },
          },
        ],
        nowMs,
      );
      return this.issueIn(tx, creation.id, nowMs, null, actor);
    });
    return {
      id: creation.id,
      name,
      webhookUrl,
      apiKey: issued.apiKey,
      apiKeyId: issued.key.id,
      webhookSecret,
    };
  }

  /** Issues a key inside `tx`: 192 random bits after the prefix, only its keyed hash stored. */
  private async issueIn(
    tx: SqlExecutor,
    merchantId: string,
    nowMs: number,
    replacing: string | null,
    actor: Actor,
  ): Promise<IssuedApiKey> {
    const { secrets, merchantStore, audit } = this.deps;
    if ((await merchantStore.countUsableApiKeys(tx, merchantId, nowMs)) >= merchantLimits.activeApiKeysMax) {
      throw new CountersignError('too_many_api_keys');
    }
    const apiKey = apiKeyPrefix + randomBytes(apiKeyRandomBytes).toString('base64url');
    const key: ApiKeyRecord = {
      id: newId(),
      merchantId,
      prefix: apiKey.slice(0, apiKeyDisplayCharacters),
      keyHash: secrets.keyedHash('api_key', apiKey),
      status: 'active',
      createdAtMs: nowMs,
      expiresAtMs: null,
      revokedAtMs: null,
    };
    await merchantStore.insertApiKey(tx, key);
    await audit.appendIn(
      tx,
      [
        {
          event: 'merchant_api_key_created',
          subject: merchantId,
          detail: { id: key.id, prefix: key.prefix, replacing, actor: actorLabel(actor) },
        },
      ],
      nowMs,
    );
    return { apiKey, key };
  }

  /**
   * The merchant an API key belongs to. A malformed, unknown, revoked or expired key answers
   * `authentication_required`, all alike.
   */
  async authenticate(apiKey: string): Promise<string> {
    const { database, secrets, merchantStore, clock } = this.deps;
    // The hash is computed for a malformed key too, so that every refusal costs the same.
    const candidate = secrets.keyedHash('api_key', apiKey);
    const key = apiKeyPattern.test(apiKey)
      ? await merchantStore.selectApiKeyByHash(database, candidate)
      : undefined;
    if (
      key === undefined ||
      !secrets.constantTimeEqualHex(candidate, key.keyHash) ||
      !isApiKeyUsable(key, clock.nowMs())
    ) {
      throw new CountersignError('authentication_required');
    }
    return key.merchantId;
  }

  /** A merchant's public settings; `merchant_not_found` when there is none. */
  async get(merchantId: string): Promise<MerchantView> {
    const { database, merchantStore, partyStore } = this.deps;
    const merchant = await merchantStore.selectMerchant(database, merchantId);
    const payee = await partyStore.selectPayee(database, merchantId);
    if (merchant === undefined || payee === undefined) throw new CountersignError('merchant_not_found');
    return { id: merchantId, name: payee.name, webhookUrl: merchant.webhookUrl };
  }

  /**
   * Merchants by id, at most `limit` (bounded by the merchant page size) after `afterId`: a page of the
   * operator's list; the caller pages on with the last id.
   */
  async list(afterId: string | undefined, limit: number): Promise<MerchantView[]> {
    const bounded = Math.max(1, Math.min(limit, merchantLimits.pageSizeMax));
    return this.deps.merchantStore.listMerchants(this.deps.database, afterId, bounded);
  }

  /** Sets or clears the webhook URL. Deliveries already queued keep the URL they were queued for. */
  async setWebhookUrl(merchantId: string, webhookUrl: string | null): Promise<MerchantView> {
    const { database, clock, merchantStore, audit, merchantSettings } = this.deps;
    const url =
      webhookUrl === null ? null : checkWebhookUrl(webhookUrl, merchantSettings.webhookAllowPrivateTargets);
    await database.transaction(async (tx) => {
      if ((await merchantStore.selectMerchant(tx, merchantId)) === undefined) {
        throw new CountersignError('merchant_not_found');
      }
      const nowMs = clock.nowMs();
      await merchantStore.updateWebhookUrl(tx, merchantId, url, nowMs);
      await audit.appendIn(
        tx,
        [{ event: 'merchant_updated', subject: merchantId, detail: { webhook: url !== null } }],
        nowMs,
      );
    });
    return this.get(merchantId);
  }

  /** Replaces the webhook secret; the new one is returned once. Deliveries from now on are signed with it. */
  async rotateWebhookSecret(merchantId: string, actor: Actor): Promise<{ webhookSecret: string }> {
    assertMayAct(actor, 'manage_merchant');
    const { database, clock, secrets, merchantStore, audit } = this.deps;
    const webhookSecret = webhookSecretPrefix + randomBytes(webhookSecretRandomBytes).toString('base64url');
    await database.transaction(async (tx) => {
      if ((await merchantStore.selectMerchant(tx, merchantId)) === undefined) {
        throw new CountersignError('merchant_not_found');
      }
      const nowMs = clock.nowMs();
      const sealed = secrets.box.seal(webhookSecret, webhookSecretLabel(merchantId));
      await merchantStore.updateWebhookSecret(tx, merchantId, sealed, nowMs);
      await audit.appendIn(
        tx,
        [
          {
            event: 'merchant_webhook_secret_rotated',
            subject: merchantId,
            detail: { actor: actorLabel(actor) },
          },
        ],
        nowMs,
      );
    });
    return { webhookSecret };
  }

  /** The webhook secret in clear, to sign a delivery. */
  async webhookSecret(executor: SqlExecutor, merchantId: string): Promise<string> {
    const merchant = await this.deps.merchantStore.selectMerchant(executor, merchantId);
    if (merchant === undefined) throw new Error(`invariant: merchant ${merchantId} vanished`);
    return this.deps.secrets.box
      .open(merchant.webhookSecretSealed, webhookSecretLabel(merchantId))
      .toString('utf8');
  }

  /** A merchant's API keys (prefix and state, never the key), oldest first. */
  async listApiKeys(merchantId: string): Promise<ApiKeyRecord[]> {
    const { database, merchantStore } = this.deps;
    if ((await merchantStore.selectMerchant(database, merchantId)) === undefined) {
      throw new CountersignError('merchant_not_found');
    }
    return merchantStore.listApiKeys(database, merchantId, 1000);
  }

  /**
   * The id of the merchant's one usable key, for a rotation that does not name the key; `invalid_request`
   * (param `key`) when there are several or none, since guessing which one to replace could stop the wrong
   * server's key.
   */
  async onlyUsableApiKeyId(merchantId: string): Promise<string> {
    const nowMs = this.deps.clock.nowMs();
    const usable = (await this.listApiKeys(merchantId)).filter((key) => isApiKeyUsable(key, nowMs));
    if (usable.length !== 1) {
      throw invalid('key', `the merchant has ${usable.length} usable API keys; name the one to replace`);
    }
    return usable[0]!.id;
  }

  /** Issues another API key for the merchant (e.g. one per server), shown once. */
  async createApiKey(merchantId: string, actor: Actor): Promise<IssuedApiKey> {
    assertMayAct(actor, 'manage_merchant');
    const { database, clock, merchantStore } = this.deps;
    return database.transaction(async (tx) => {
      if ((await merchantStore.selectMerchant(tx, merchantId)) === undefined) {
        throw new CountersignError('merchant_not_found');
      }
      return this.issueIn(tx, merchantId, clock.nowMs(), null, actor);
    });
  }

  /**
   * Rotates a key: issues a new one and lets the old one work for `graceSeconds` more (0: it stops at once),
   * so that a merchant can deploy the new key before the old one stops.
   */
  async rotateApiKey(
    merchantId: string,
    keyId: string,
    graceSeconds: number,
    actor: Actor,
  ): Promise<IssuedApiKey> {
    assertMayAct(actor, 'manage_merchant');
    const { database, clock, merchantStore, audit } = this.deps;
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0) {
      throw invalid('graceSeconds', 'graceSeconds must be a whole number of seconds');
    }
    const graceMs = Math.min(graceSeconds, merchantLimits.rotationGraceSecondsMax) * 1000;
    return database.transaction(async (tx) => {
      const old = await this.usableKeyIn(tx, merchantId, keyId);
      const nowMs = clock.nowMs();
      if (graceMs === 0) {
        await merchantStore.revokeApiKey(tx, old.id, nowMs);
        await audit.appendIn(
          tx,
          [
            {
              event: 'merchant_api_key_revoked',
              subject: merchantId,
              detail: { id: old.id, actor: actorLabel(actor) },
            },
          ],
          nowMs,
        );
      } else {
        const expiresAtMs = Math.min(old.expiresAtMs ?? Number.MAX_SAFE_INTEGER, nowMs + graceMs);
        await merchantStore.setApiKeyExpiry(tx, old.id, expiresAtMs);
      }
      return this.issueIn(tx, merchantId, nowMs, old.id, actor);
    });
  }

  /** Revokes a key at once. Revoking a revoked key changes nothing. */
  async revokeApiKey(merchantId: string, keyId: string, actor: Actor): Promise<ApiKeyRecord> {
    assertMayAct(actor, 'manage_merchant');
    const { database, clock, merchantStore, audit } = this.deps;
    return database.transaction(async (tx) => {
      const key = await merchantStore.selectApiKey(tx, merchantId, keyId, true);
      if (key === undefined) throw new CountersignError('api_key_not_found');
      if (key.status === 'revoked') return key;
      const nowMs = clock.nowMs();
      await merchantStore.revokeApiKey(tx, key.id, nowMs);
      await audit.appendIn(
        tx,
        [
          {
            event: 'merchant_api_key_revoked',
            subject: merchantId,
            detail: { id: key.id, actor: actorLabel(actor) },
          },
        ],
        nowMs,
      );
      return { ...key, status: 'revoked' as const, revokedAtMs: nowMs };
    });
  }

  private async usableKeyIn(tx: SqlExecutor, merchantId: string, keyId: string): Promise<ApiKeyRecord> {
    const key = await this.deps.merchantStore.selectApiKey(tx, merchantId, keyId, true);
    if (key === undefined) throw new CountersignError('api_key_not_found');
    if (!isApiKeyUsable(key, this.deps.clock.nowMs())) throw new CountersignError('api_key_revoked');
    return key;
  }
}
