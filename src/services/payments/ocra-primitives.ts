/**
 * Node's synchronous HMAC and digest for OCRA on the server. The platform computes one second code per
 * active terminal of the payer for every payment it creates; WebCrypto would import a key and hop to the
 * thread pool for each, `createHmac` does neither. The RFC 6287 vectors are checked against these too
 * (`ocra-primitives.test.ts`).
 */
import { createHash, createHmac } from 'node:crypto';
import type { OcraPrimitives, OtpHash } from '../../domain/ocra.js';

const nodeHashNames: Readonly<Record<OtpHash, string>> = Object.freeze({
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-512': 'sha512',
});

/** `OcraPrimitives` over `node:crypto`, synchronous. */
export const nodeOcraPrimitives: OcraPrimitives = Object.freeze({
  hmac(hash: OtpHash, key: Uint8Array, message: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac(nodeHashNames[hash], key).update(message).digest());
  },
  digest(hash: OtpHash, data: Uint8Array): Uint8Array {
    return new Uint8Array(createHash(nodeHashNames[hash]).update(data).digest());
  },
});
