// Proves that every numeric setting applies its default, accepts its whole range and refuses outside it by name, and that the README lists each as the code applies it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { secretSettingLimits, settingLimits } from './domain/limits.js';

const settings = Object.entries(settingLimits);

/** The message of the configuration error `env` causes, or a failure when it is accepted. */
function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe.each(settings)('the setting %s', (field, setting) => {
  // LOCK_SECONDS_MAX may not be less than LOCK_SECONDS, so its lowest value goes with the lowest lock.
  const alongside: Record<string, string> = field === 'lockSecondsMax' ? { LOCK_SECONDS: '1' } : {};

  it('applies its default when unset', () => {
    expect(loadConfig({})[field as keyof typeof settingLimits]).toBe(setting.defaultValue);
  });

  it('accepts both ends of its range', () => {
    for (const value of [setting.min, setting.max]) {
      const config = loadConfig({ ...alongside, [setting.variable]: String(value) });
      expect(config[field as keyof typeof settingLimits]).toBe(value);
    }
  });

  it('refuses a value outside its range, naming the variable and the range', () => {
    const outside = [setting.max + 1, ...(setting.min > 0 ? [setting.min - 1] : [])];
    for (const value of outside) {
      const message = refusal({ ...alongside, [setting.variable]: String(value) });
      expect(message).toContain(setting.variable);
      expect(message).toContain(`between ${setting.min} and ${setting.max}`);
    }
  });
});

describe('the README', () => {
  const rows = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('| `'));
  const rowOf = (variable: string) => {
    const row = rows.find((line) => line.startsWith(`| \`${variable}\` |`));
    if (row === undefined) throw new Error(`README lists no ${variable}`);
    return row.replaceAll(',', '');
  };

  it.each(settings)('lists %s with its default and its range', (_field, setting) => {
    const row = rowOf(setting.variable);
    expect(row.split('|')[2]?.trim()).toBe(`\`${setting.defaultValue}\``);
    expect(row).toContain(`(${setting.min}–${setting.max}`);
  });

  it('states the shortest secrets the environment may give', () => {
    for (const variable of ['OPERATOR_TOKEN', 'METRICS_TOKEN']) {
      expect(rowOf(variable)).toContain(`≥ ${secretSettingLimits.bearerTokenLengthMin} characters`);
    }
    expect(rowOf('SMS_GATEWAY_SECRET')).toContain(
      `≥ ${secretSettingLimits.smsGatewaySecretLengthMin} characters`,
    );
    const shortest = 'x'.repeat(secretSettingLimits.bearerTokenLengthMin);
    expect(loadConfig({ OPERATOR_TOKEN: shortest }).operatorToken).toBe(shortest);
    expect(refusal({ OPERATOR_TOKEN: 'x'.repeat(secretSettingLimits.bearerTokenLengthMin - 1) })).toContain(
      `at least ${secretSettingLimits.bearerTokenLengthMin} printable characters`,
    );
  });
});
