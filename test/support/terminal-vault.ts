// The terminal a vault test seals (its identity and secrets), and the vaults an earlier release wrote for it under test/fixtures/terminal-vault/, shared by the tests of terminal-core's vault and of the command line's key file.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The clear part of the terminal the fixtures were written for. */
export const vaultIdentity = Object.freeze({
  terminalId: '7d2f1c3a-9b8e-4f6d-a5c4-3b2a1f0e9d8c',
  payerId: 'alice',
  platformUrl: 'https://pay.example.com',
  suite: 'OCRA-1:HOTP-SHA256-8:QN08-PSHA1',
  label: 'laptop',
});

/** Its secrets (not a real key: the vault seals text, it does not parse it). */
export const vaultSecrets = Object.freeze({
  ocraKeyHex: 'ab'.repeat(32),
  signingKeyPkcs8: 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg',
});

/** The path of a fixture an earlier release wrote: `terminal-file.json` or `browser-record.json`. */
export function vaultFixturePath(name: 'terminal-file.json' | 'browser-record.json'): string {
  return fileURLToPath(new URL(`../fixtures/terminal-vault/${name}`, import.meta.url));
}

/** A fixture's content, parsed. */
export function vaultFixture(name: 'terminal-file.json' | 'browser-record.json'): unknown {
  return JSON.parse(readFileSync(vaultFixturePath(name), 'utf8'));
}
