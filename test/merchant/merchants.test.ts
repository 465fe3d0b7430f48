// Proves merchant credentials on both engines: secrets shown once and never stored in clear, API keys listed by prefix, rotated with a grace period, revoked, refused alike when wrong, and webhook URLs kept off private networks by default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';
import { createMerchant, merchantCall, type TestMerchant } from './merchant-support.js';

describe.each(testEngines())('merchants and API keys on %s', (engine) => {
  let platform: TestPlatform;
  let shop: TestMerchant;

  beforeAll(async () => {
    // Private webhook targets are refused here, as in production by default.
    platform = await startTestPlatform(engine);
    shop = await createMerchant(platform.app, platform.operatorToken, 'keys-shop', {
      webhookUrl: 'https://shop.example/webhooks',
    });
  });
  afterAll(async () => {
    await platform.dispose();
  });

  const operator = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    call(platform.app, method, url, body, { token: platform.operatorToken });
  const whoAmI = (apiKey: string) => merchantCall(platform.app, apiKey, 'GET', '/v1/merchant');

  it('shows the API key and webhook secret once, in their documented forms, and the key works', async () => {
    expect(shop.apiKey).toMatch(/^cs_live_[A-Za-z0-9_-]{32}$/);
    expect(shop.webhookSecret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const me = await whoAmI(shop.apiKey);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({
      object: 'merchant',
      id: 'keys-shop',
      name: 'Shop keys-shop',
      webhookUrl: 'https://shop.example/webhooks',
    });
    const shown = await operator('GET', '/v1/merchants/keys-shop');
    expect(shown.body).not.toContain(shop.apiKey);
    expect(shown.body).not.toContain(shop.webhookSecret);
  });

  it('stores neither the API key nor the webhook secret in clear anywhere', async () => {
    const tables = await platform.test.database.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    );
    for (const { table_name: table } of tables) {
      const rows = await platform.test.database.query<{ row: string }>(
        `SELECT t::text AS row FROM "${table}" t`,
      );
      for (const { row } of rows) {
        expect(row).not.toContain(shop.apiKey.slice(8));
        expect(row).not.toContain(shop.webhookSecret.slice(6));
      }
    }
    const [key] = await platform.test.database.query<{ key_hash: string }>(
      'SELECT key_hash FROM merchant_api_keys WHERE merchant_id = $1',
      [shop.id],
    );
    expect(key?.key_hash).toBe(platform.services.deps.secrets.keyedHash('api_key', shop.apiKey));
  });

  it('lists keys by prefix, never the keys', async () => {
    const listed = await operator('GET', `/v1/merchants/${shop.id}/api-keys`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data).toEqual([
      expect.objectContaining({
        id: shop.apiKeyId,
        prefix: shop.apiKey.slice(0, 14),
        status: 'active',
        revokedAt: null,
      }),
    ]);
    expect(listed.body).not.toContain(shop.apiKey);
  });

  it('refuses a missing, malformed, unknown or operator credential alike with 401', async () => {
    const forged = `cs_live_${'A'.repeat(32)}`;
    for (const token of [undefined, 'nonsense', forged, shop.apiKey.slice(0, -1), platform.operatorToken]) {
      const response = await call(
        platform.app,
        'GET',
        '/v1/payment-requests',
        undefined,
        token === undefined ? {} : { token },
      );
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('authentication_required');
      expect(response.headers['www-authenticate']).toContain('Bearer');
    }
    const asOperator = await merchantCall(platform.app, shop, 'POST', '/v1/merchants', {
      id: 'sneaky',
      name: 'x',
    });
    expect(asOperator.statusCode).toBe(401);
  });

  it('rotates a key with a grace period: both work until it ends, then only the new one', async () => {
    const rotated = await operator('POST', `/v1/merchants/${shop.id}/api-keys/${shop.apiKeyId}/rotate`, {
      graceSeconds: 3600,
    });
    expect(rotated.statusCode, rotated.body).toBe(201);
    const fresh = rotated.json();
    expect(fresh.apiKey).toMatch(/^cs_live_/);
    expect(fresh.apiKey).not.toBe(shop.apiKey);
    expect((await whoAmI(fresh.apiKey)).statusCode).toBe(200);
    expect((await whoAmI(shop.apiKey)).statusCode).toBe(200);
    platform.clock.advance(3600_000);
    expect((await whoAmI(shop.apiKey)).statusCode).toBe(401);
    expect((await whoAmI(fresh.apiKey)).statusCode).toBe(200);
    const again = await operator('POST', `/v1/merchants/${shop.id}/api-keys/${shop.apiKeyId}/rotate`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('api_key_revoked');
    shop = { ...shop, apiKey: fresh.apiKey, apiKeyId: fresh.id };
  });

  it('rotates without grace by revoking the old key at once, and revokes a key on demand', async () => {
    const rotated = (
      await operator('POST', `/v1/merchants/${shop.id}/api-keys/${shop.apiKeyId}/rotate`)
    ).json();
    expect((await whoAmI(shop.apiKey)).statusCode).toBe(401);
    expect((await whoAmI(rotated.apiKey)).statusCode).toBe(200);
    const revoked = await operator('POST', `/v1/merchants/${shop.id}/api-keys/${rotated.id}/revoke`);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ id: rotated.id, status: 'revoked' });
    expect((await whoAmI(rotated.apiKey)).statusCode).toBe(401);
    expect(
      (await operator('POST', `/v1/merchants/${shop.id}/api-keys/${rotated.id}/revoke`)).json().status,
    ).toBe('revoked');
    const issued = await operator('POST', `/v1/merchants/${shop.id}/api-keys`);
    expect(issued.statusCode).toBe(201);
    shop = { ...shop, apiKey: issued.json().apiKey, apiKeyId: issued.json().id };
    expect((await whoAmI(shop.apiKey)).statusCode).toBe(200);
  });

  it('allows at most ten active keys', async () => {
    const issued: number[] = [];
    for (let index = 0; index < 10; index++) {
      issued.push((await operator('POST', `/v1/merchants/${shop.id}/api-keys`)).statusCode);
    }
    expect(issued.filter((status) => status === 201)).toHaveLength(9);
    expect(issued.at(-1)).toBe(409);
    const keys = (await operator('GET', `/v1/merchants/${shop.id}/api-keys`)).json().data as {
      status: string;
    }[];
    expect(keys.filter((key) => key.status === 'active')).toHaveLength(10);
  });

  it('replaces the webhook secret and shows the new one once', async () => {
    const rotated = await operator('POST', `/v1/merchants/${shop.id}/webhook-secret/rotate`);
    expect(rotated.statusCode).toBe(200);
    expect(rotated.json().webhookSecret).toMatch(/^whsec_/);
    expect(rotated.json().webhookSecret).not.toBe(shop.webhookSecret);
  });

  it('refuses bad merchants and webhook URLs on private networks, changing nothing', async () => {
    const before = await snapshotTables(platform.test.database);
    const cases: [Record<string, unknown>, string, string][] = [
      [{ id: 'keys-shop', name: 'Again' }, 'payee_exists', 'id'],
      [{ id: 'x', name: 'Short id' }, 'invalid_request', 'id'],
      [
        { id: 'ftp-shop', name: 'FTP', webhookUrl: 'ftp://shop.example/hook' },
        'invalid_request',
        'webhookUrl',
      ],
      [
        { id: 'loop-shop', name: 'Loop', webhookUrl: 'http://127.0.0.1:9/hook' },
        'invalid_request',
        'webhookUrl',
      ],
      [{ id: 'lan-shop', name: 'LAN', webhookUrl: 'http://10.1.2.3/hook' }, 'invalid_request', 'webhookUrl'],
      [
        { id: 'meta-shop', name: 'Meta', webhookUrl: 'http://169.254.169.254/latest' },
        'invalid_request',
        'webhookUrl',
      ],
      [{ id: 'v6-shop', name: 'V6', webhookUrl: 'http://[::1]/hook' }, 'invalid_request', 'webhookUrl'],
      [
        { id: 'local-shop', name: 'Local', webhookUrl: 'http://localhost/hook' },
        'invalid_request',
        'webhookUrl',
      ],
      [
        { id: 'cred-shop', name: 'Cred', webhookUrl: 'https://user:pw@shop.example/hook' },
        'invalid_request',
        'webhookUrl',
      ],
    ];
    for (const [body, code, param] of cases) {
      const response = await operator('POST', '/v1/merchants', body);
      expect(response.json().error, JSON.stringify(body)).toMatchObject({ code, param });
    }
    const setPrivate = await merchantCall(platform.app, shop, 'POST', '/v1/merchant', {
      webhookUrl: 'http://192.168.1.1/',
    });
    expect(setPrivate.json().error).toMatchObject({ code: 'invalid_request', param: 'webhookUrl' });
    expect(changedTables(before, await snapshotTables(platform.test.database))).toEqual([]);
    const unknown = await operator('GET', '/v1/merchants/nobody-here/api-keys');
    expect(unknown.json().error.code).toBe('merchant_not_found');
  });
});
