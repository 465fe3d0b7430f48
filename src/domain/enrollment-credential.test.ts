// Proves that a terminal's WebCrypto signature over the canonical request verifies with Node's crypto, and that any change of method, path, terminal, time, nonce or body breaks it.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base64urlToBytes,
  bytesToBase64url,
  canonicalTerminalRequest,
  exportPrivateKey,
  generateTerminalKeyPair,
  importPrivateKey,
  newNonce,
  noncePattern,
  publicKeyPattern,
  sha256Hex,
  signaturePattern,
  signTerminalRequest,
  terminalRequestHeaders,
} from './enrollment-credential.js';

const terminalId = '7d2f1c3a-9b8e-4f6d-a5c4-3b2a1f0e9d8c';

function verifies(publicKeySpki: string, text: string, signature: string): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeySpki, 'base64url'), format: 'der', type: 'spki' });
  return verify(
    'sha256',
    Buffer.from(text),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
}

describe('signed terminal requests', () => {
  it('writes the canonical text one field a line, with the body hash last', async () => {
    const body = '{"secondCode":"12345678"}';
    const text = canonicalTerminalRequest({
      method: 'post',
      path: '/v1/terminal/payments/x/approve',
      keyId: terminalId,
      timestampMs: 1_700_000_000_000,
      nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
      bodySha256Hex: await sha256Hex(body),
    });
    expect(text).toBe(
      [
        'countersign-terminal-request-v1',
        'POST',
        '/v1/terminal/payments/x/approve',
        terminalId,
        '1700000000000',
        'AAAAAAAAAAAAAAAAAAAAAA',
        createHash('sha256').update(body).digest('hex'),
      ].join('\n'),
    );
    expect(() =>
      canonicalTerminalRequest({
        method: 'GET',
        path: '/a\n/b',
        keyId: terminalId,
        timestampMs: 1,
        nonce: 'n',
        bodySha256Hex: '',
      }),
    ).toThrow(RangeError);
  });

  it('signs with WebCrypto what Node verifies, and nothing else', async () => {
    const pair = await generateTerminalKeyPair();
    expect(pair.publicKeySpki).toMatch(publicKeyPattern);
    const request = {
      method: 'POST',
      path: '/v1/terminal/revoke',
      keyId: terminalId,
      body: '{"a":1}',
      timestampMs: 1_700_000_000_000,
    };
    const headers = await signTerminalRequest(pair.privateKey, request);
    expect(headers[terminalRequestHeaders.terminal]).toBe(terminalId);
    expect(headers[terminalRequestHeaders.nonce]).toMatch(noncePattern);
    const signature = headers[terminalRequestHeaders.signature]!;
    expect(signature).toMatch(signaturePattern);
    const parts = {
      method: 'POST',
      path: '/v1/terminal/revoke',
      keyId: terminalId,
      timestampMs: 1_700_000_000_000,
      nonce: headers[terminalRequestHeaders.nonce]!,
      bodySha256Hex: await sha256Hex('{"a":1}'),
    };
    expect(verifies(pair.publicKeySpki, canonicalTerminalRequest(parts), signature)).toBe(true);
    for (const changed of [
      { ...parts, method: 'GET' },
      { ...parts, path: '/v1/terminal/challenges' },
      { ...parts, keyId: '00000000-0000-4000-8000-000000000000' },
      { ...parts, timestampMs: parts.timestampMs + 1 },
      { ...parts, nonce: newNonce() },
      { ...parts, bodySha256Hex: await sha256Hex('{"a":2}') },
    ]) {
      expect(verifies(pair.publicKeySpki, canonicalTerminalRequest(changed), signature)).toBe(false);
    }
  });

  it('leaves out the terminal header while enrolling, and signs under the enrollment key id', async () => {
    const pair = await generateTerminalKeyPair();
    const headers = await signTerminalRequest(pair.privateKey, {
      method: 'POST',
      path: '/v1/terminals/enroll',
      keyId: 'enrollment:0f8b2d6e-5c1a-4c3e-9a7b-2d4e6f8a0b1c',
      body: '{}',
      timestampMs: 1,
      nonce: 'BBBBBBBBBBBBBBBBBBBBBB',
    });
    expect(Object.keys(headers).sort()).toEqual(
      [
        terminalRequestHeaders.nonce,
        terminalRequestHeaders.signature,
        terminalRequestHeaders.timestamp,
      ].sort(),
    );
  });

  it('exports a private key that signs again after import, and imports it as not extractable', async () => {
    const pair = await generateTerminalKeyPair();
    const restored = await importPrivateKey(await exportPrivateKey(pair.privateKey));
    expect(restored.extractable).toBe(false);
    const headers = await signTerminalRequest(restored, {
      method: 'GET',
      path: '/v1/terminal',
      keyId: terminalId,
      body: '',
      timestampMs: 5,
    });
    const text = canonicalTerminalRequest({
      method: 'GET',
      path: '/v1/terminal',
      keyId: terminalId,
      timestampMs: 5,
      nonce: headers[terminalRequestHeaders.nonce]!,
      bodySha256Hex: await sha256Hex(''),
    });
    expect(verifies(pair.publicKeySpki, text, headers[terminalRequestHeaders.signature]!)).toBe(true);
  });

  it('encodes base64url without padding and refuses other characters', () => {
    const bytes = Uint8Array.from([0xfb, 0xff, 0x00, 0x10]);
    expect(bytesToBase64url(bytes)).toBe('-_8AEA');
    expect(base64urlToBytes('-_8AEA')).toEqual(bytes);
    expect(() => base64urlToBytes('+/8AEA')).toThrow(RangeError);
  });
});
