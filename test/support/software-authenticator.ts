// A WebAuthn authenticator in software, for tests that need passkey answers outside a browser: an ECDSA key made with node:crypto, authenticator data and client data built as the WebAuthn spec lays them out, attestation "none".
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/** Authenticator data flags (WebAuthn §6.1): user present, user verified, attested credential data. */
const flagUserPresent = 0x01;
const flagUserVerified = 0x04;
const flagAttestedCredential = 0x40;

/** The curves the authenticator can make keys on, with their COSE algorithm and curve ids (RFC 9053). */
const curves = {
  ES256: { namedCurve: 'P-256', alg: -7, crv: 1, hash: 'sha256' },
  ES384: { namedCurve: 'P-384', alg: -35, crv: 2, hash: 'sha384' },
} as const;

/** What a ceremony may change about the client data, as browsers do. */
export interface ClientDataOptions {
  /** Defaults to the authenticator's origin. */
  readonly origin?: string;
  /** Chromium adds this member at random, so that servers never compare client data with a template. */
  readonly extraMember?: boolean;
  /** `webauthn.get` (default) or `payment.get` (Secure Payment Confirmation). */
  readonly type?: 'webauthn.get' | 'payment.get';
}

function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

function clientDataJson(type: string, challenge: string, origin: string, extraMember: boolean): Buffer {
  const clientData: Record<string, unknown> = { type, challenge, origin, crossOrigin: false };
  if (extraMember)
    clientData['other_keys_can_be_added_here'] =
      'do not compare clientDataJSON against a template. See https://goo.gl/yabPex';
  return Buffer.from(JSON.stringify(clientData), 'utf8');
}

/**
 * One credential of one authenticator: registers once, then signs assertions, its counter moving up by
 * one each time (or staying at zero with `counterless`).
 */
export class SoftwareAuthenticator {
  readonly credentialId: Uint8Array = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private signCount = 0;

  constructor(
    private readonly origin: string,
    private readonly curve: keyof typeof curves = 'ES256',
    private readonly counterless = false,
  ) {
    ({ privateKey: this.privateKey, publicKey: this.publicKey } = generateKeyPairSync('ec', {
      namedCurve: curves[curve].namedCurve,
    }));
  }

  /** The credential id, base64url, as the platform stores it. */
  get id(): string {
    return base64url(this.credentialId);
  }

  private authenticatorData(rpId: string, flags: number, attested?: Buffer): Buffer {
    const rpIdHash = createHash('sha256').update(rpId, 'utf8').digest();
    return Buffer.concat([
      rpIdHash,
      Buffer.from([flags]),
      uint32(this.signCount),
      attested ?? Buffer.alloc(0),
    ]);
  }

  /** The public key as a COSE_Key (RFC 9052 §7): kty EC2, alg, crv, x, y. */
  private coseKey(): Uint8Array {
    const jwk = this.publicKey.export({ format: 'jwk' });
    const { alg, crv } = curves[this.curve];
    return isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, alg],
        [-1, crv],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
  }

  /** Answers registration `options` as `navigator.credentials.create` would, with user verification. */
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    client: ClientDataOptions = {},
  ): RegistrationResponseJSON {
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([
      Buffer.alloc(16), // AAGUID: all zeros, as an authenticator that does not tell its model
      idLength,
      this.credentialId,
      this.coseKey(),
    ]);
    const authenticatorData = this.authenticatorData(
      options.rp.id ?? '',
      flagUserPresent | flagUserVerified | flagAttestedCredential,
      attested,
    );
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authenticatorData],
      ]) as Parameters<typeof isoCBOR.encode>[0],
    );
    const clientData = clientDataJson(
      'webauthn.create',
      options.challenge,
      client.origin ?? this.origin,
      client.extraMember === true,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: base64url(clientData),
        attestationObject: base64url(attestationObject),
        transports: ['internal'],
      },
      clientExtensionResults: {},
    };
  }

  /**
   * Signs `options.challenge` as `navigator.credentials.get` would, with user verification; `challenge`
   * replaces the options' own (an assertion made for something else).
   */
  assert(
    options: Pick<PublicKeyCredentialRequestOptionsJSON, 'challenge' | 'rpId'>,
    client: ClientDataOptions & { readonly challenge?: string } = {},
  ): AuthenticationResponseJSON {
    if (!this.counterless) this.signCount += 1;
    const authenticatorData = this.authenticatorData(options.rpId ?? '', flagUserPresent | flagUserVerified);
    const clientData = clientDataJson(
      client.type ?? 'webauthn.get',
      client.challenge ?? options.challenge,
      client.origin ?? this.origin,
      client.extraMember === true,
    );
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientData).digest()]);
    // ECDSA in DER, as WebAuthn's packed and none formats carry it.
    const signature = sign(curves[this.curve].hash, signed, this.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: {
        clientDataJSON: base64url(clientData),
        authenticatorData: base64url(authenticatorData),
        signature: base64url(signature),
      },
      clientExtensionResults: {},
    };
  }
}
