// A second terminal for tests: enrolls from a URI with a fresh P-256 key, signs requests, computes codes.
import type { FastifyInstance } from 'fastify';
import {
  enrollmentKeyId,
  generateTerminalKeyPair,
  signTerminalRequest,
} from '../../../src/domain/enrollment-credential.js';
import { enrollmentConfirmationQuestion, parseEnrollmentUri } from '../../../src/domain/enrollment-uri.js';
import { hexToBytes } from '../../../src/domain/hex.js';
import { computeOcra } from '../../../src/domain/ocra.js';

/** A parsed JSON body, typed loosely as `JSON.parse` types it, so that tests can read any field. */
export type Json = ReturnType<typeof JSON.parse>;

/** An HTTP answer, whichever way it travelled. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  json(): Json;
}

/** One request as sent. */
export interface Outgoing {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** Sends a request somewhere: through `app.inject` or over the network. */
export type Transport = (request: Outgoing) => Promise<Answer>;

/** A transport over `app.inject`. */
export function injectTransport(app: FastifyInstance): Transport {
  return async (request) => {
    const response = await app.inject({
      method: request.method,
      url: request.path,
      headers: request.headers,
      ...(request.body === undefined ? {} : { payload: request.body }),
    });
    return { status: response.statusCode, body: response.body, json: () => response.json() };
  };
}

/** A transport over fetch to a listening server. */
export function fetchTransport(baseUrl: string): Transport {
  return async (request) => {
    const response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    const body = await response.text();
    return { status: response.status, body, json: () => JSON.parse(body) };
  };
}

/** Overrides for building bad requests. */
export interface SignOptions {
  readonly timestampMs?: number;
  readonly nonce?: string;
  /** Sign with this key instead of the terminal's (a forgery). */
  readonly privateKey?: CryptoKey;
  /** Send this body instead of the signed one (tampering). */
  readonly sentBody?: string;
}

/** A signed request, ready to send (and to send again, for replay tests). */
export interface SignedOutgoing extends Outgoing {}

/** A terminal under test. */
export class TestTerminal {
  constructor(
    readonly id: string,
    readonly payerId: string,
    readonly suite: string,
    readonly keyHex: string,
    readonly verificationCode: string,
    private readonly privateKey: CryptoKey,
    private readonly transport: Transport,
    private readonly now: () => number,
  ) {}

  /** Builds the request a device sends to redeem `uri`. */
  static async enrollmentRequest(
    uri: string,
    verificationCode: string,
    now: () => number,
    options: { label?: string; secret?: string; confirmationCode?: string } = {},
  ) {
    const parsed = parseEnrollmentUri(uri);
    const pair = await generateTerminalKeyPair();
    const confirmationCode =
      options.confirmationCode ??
      (await computeOcra({
        suite: parsed.suite,
        key: hexToBytes(parsed.keyHex),
        question: enrollmentConfirmationQuestion(parsed.enrollmentId),
        pin: verificationCode,
      }));
    const body = JSON.stringify({
      enrollmentId: parsed.enrollmentId,
      secret: options.secret ?? parsed.secret,
      publicKey: pair.publicKeySpki,
      confirmationCode,
      ...(options.label === undefined ? {} : { label: options.label }),
    });
    const headers = await signTerminalRequest(pair.privateKey, {
      method: 'POST',
      path: '/v1/terminals/enroll',
      keyId: enrollmentKeyId(parsed.enrollmentId),
      body,
      timestampMs: now(),
    });
    const request: Outgoing = {
      method: 'POST',
      path: '/v1/terminals/enroll',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    };
    return { parsed, pair, request };
  }

  /** Enrolls from `uri`; throws with the answer when the platform refuses. */
  static async enroll(
    transport: Transport,
    now: () => number,
    uri: string,
    verificationCode: string,
    label?: string,
  ): Promise<TestTerminal> {
    const { parsed, pair, request } = await TestTerminal.enrollmentRequest(
      uri,
      verificationCode,
      now,
      label === undefined ? {} : { label },
    );
    const answer = await transport(request);
    if (answer.status !== 201) throw new Error(`enrollment refused: ${answer.status} ${answer.body}`);
    const terminal = answer.json().terminal as { id: string; payerId: string; suite: string };
    return new TestTerminal(
      terminal.id,
      terminal.payerId,
      parsed.suite,
      parsed.keyHex,
      verificationCode,
      pair.privateKey,
      transport,
      now,
    );
  }

  /** Signs a request of this terminal. */
  async sign(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: SignOptions = {},
  ): Promise<SignedOutgoing> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = await signTerminalRequest(options.privateKey ?? this.privateKey, {
      method,
      path,
      keyId: this.id,
      body: text,
      timestampMs: options.timestampMs ?? this.now(),
      ...(options.nonce === undefined ? {} : { nonce: options.nonce }),
    });
    const sent = options.sentBody ?? (body === undefined ? undefined : text);
    return {
      method,
      path,
      headers: sent === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      ...(sent === undefined ? {} : { body: sent }),
    };
  }

  /** Sends a request. */
  send(request: Outgoing): Promise<Answer> {
    return this.transport(request);
  }

  /** Signs and sends. */
  async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    options: SignOptions = {},
  ): Promise<Answer> {
    return this.transport(await this.sign(method, path, body, options));
  }

  /** The second code this terminal computes for a first code. */
  secondCode(firstCode: string, verificationCode = this.verificationCode): Promise<string> {
    return computeOcra({
      suite: this.suite,
      key: hexToBytes(this.keyHex),
      question: firstCode,
      pin: verificationCode,
    });
  }
}
