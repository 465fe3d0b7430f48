// Proves that the delivery settings are read from the environment, validated, and refused with a message that names the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const secret = 'a-gateway-secret-of-thirty-two-characters';

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('delivery configuration', () => {
  it('leaves the SMS channel and the development outbox off by default', () => {
    expect(loadConfig({})).toMatchObject({
      smsGatewayUrl: undefined,
      smsGatewaySecret: undefined,
      developmentOutbox: false,
    });
  });

  it('reads an SMS gateway and the development outbox flag', () => {
    expect(
      loadConfig({
        SMS_GATEWAY_URL: 'https://sms.internal/send',
        SMS_GATEWAY_SECRET: secret,
        DEVELOPMENT_OUTBOX: 'true',
      }),
    ).toMatchObject({
      smsGatewayUrl: 'https://sms.internal/send',
      smsGatewaySecret: secret,
      developmentOutbox: true,
    });
  });

  it('refuses a plain-http SMS gateway, naming the variable and the development flag', () => {
    const env = { SMS_GATEWAY_URL: 'http://sms.internal/send', SMS_GATEWAY_SECRET: secret };
    const error = refusal(env);
    expect(error.variable).toBe('SMS_GATEWAY_URL');
    expect(error.message).toMatch(/^SMS_GATEWAY_URL: must be an https:\/\/ URL/);
    expect(error.message).toContain('SMS_GATEWAY_ALLOW_HTTP');
    expect(error.message).not.toContain(secret);
    expect(refusal({ ...env, SMS_GATEWAY_ALLOW_HTTP: 'false' }).variable).toBe('SMS_GATEWAY_URL');
  });

  it('accepts https always, and plain http only with SMS_GATEWAY_ALLOW_HTTP=true', () => {
    expect(
      loadConfig({ SMS_GATEWAY_URL: 'https://sms.internal/send', SMS_GATEWAY_SECRET: secret }),
    ).toMatchObject({ smsGatewayUrl: 'https://sms.internal/send', smsGatewayAllowHttp: false });
    expect(
      loadConfig({
        SMS_GATEWAY_URL: 'http://127.0.0.1:9000/send',
        SMS_GATEWAY_SECRET: secret,
        SMS_GATEWAY_ALLOW_HTTP: 'true',
      }),
    ).toMatchObject({ smsGatewayUrl: 'http://127.0.0.1:9000/send', smsGatewayAllowHttp: true });
  });

  it.each([
    [{ SMS_GATEWAY_URL: 'https://sms.internal/send' }, 'SMS_GATEWAY_SECRET'],
    [{ SMS_GATEWAY_URL: 'https://sms.internal/send', SMS_GATEWAY_SECRET: 'short' }, 'SMS_GATEWAY_SECRET'],
    [{ SMS_GATEWAY_URL: 'ftp://sms.internal/send', SMS_GATEWAY_SECRET: secret }, 'SMS_GATEWAY_URL'],
    [{ SMS_GATEWAY_URL: 'not a url', SMS_GATEWAY_SECRET: secret }, 'SMS_GATEWAY_URL'],
    [{ SMS_GATEWAY_SECRET: secret }, 'SMS_GATEWAY_SECRET'],
    [{ DEVELOPMENT_OUTBOX: 'yes' }, 'DEVELOPMENT_OUTBOX'],
    [{ SMS_GATEWAY_ALLOW_HTTP: 'yes' }, 'SMS_GATEWAY_ALLOW_HTTP'],
  ])('refuses %o naming %s', (env, variable) => {
    const error = refusal(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).not.toContain(secret);
  });
});

describe('passkey relying party configuration', () => {
  it('takes the RP ID from the host of PUBLIC_URL unless WEBAUTHN_RP_ID names one', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://pay.example.com' }).webauthnRpId).toBeUndefined();
    expect(
      loadConfig({ PUBLIC_URL: 'https://pay.example.com', WEBAUTHN_RP_ID: 'example.com' }).webauthnRpId,
    ).toBe('example.com');
    expect(
      loadConfig({ PUBLIC_URL: 'https://pay.example.com', WEBAUTHN_RP_ID: 'pay.example.com' }).webauthnRpId,
    ).toBe('pay.example.com');
  });

  it.each(['other.com', 'ample.com', 'sub.pay.example.com', 'exa mple.com'])(
    'refuses WEBAUTHN_RP_ID=%s, which is not the host of PUBLIC_URL or a domain it is under',
    (rpId) => {
      const error = refusal({ PUBLIC_URL: 'https://pay.example.com', WEBAUTHN_RP_ID: rpId });
      expect(error.message).toContain('WEBAUTHN_RP_ID');
    },
  );
});
