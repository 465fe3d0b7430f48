/**
 * A second terminal's client of the terminal API, written once for the command line and the browser
 * authenticator. Every request is signed with the terminal's P-256 key (docs/terminal.md, "Signed
 * requests", `src/domain/enrollment-credential.ts`); a request refused as stale is signed again once with
 * the platform's clock from the error, so that a device whose clock is off still works. The hosts differ
 * only in how they reach the platform (`SignedRequestOptions`); the rest is here.
 *
 * Pure apart from `fetch`, which Node.js and browsers both have: no Node.js module, so that the browser
 * loads it as it is.
 */
import { signTerminalRequest } from '../domain/enrollment-credential.js';
import { type Challenge, readTerminalEvents, type TerminalEvent } from './terminal-events.js';

/** The platform refused a request; `code` is the catalog's. */
export class PlatformRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PlatformRefusal';
  }
}

/** How a host reaches the platform. */
export interface SignedRequestOptions {
  /** Where the platform is; empty for the page's own origin. */
  readonly platformUrl: string;
  /** More of every request (the browser sends no cookies and skips the HTTP cache). */
  readonly requestInit?: RequestInit;
  /** How long a request without a signal of its own may take; unset, as long as it takes. */
  readonly requestTimeoutMs?: number;
  /** The message of a refusal whose body says none, in the host's own words. */
  readonly unexplainedRefusal: (status: number) => string;
}

/** One request to sign and send; `body` is the exact text sent (empty for none). */
export interface SignedRequest {
  readonly signingKey: CryptoKey;
  /** The terminal id, or `enrollmentKeyId(…)` while redeeming an enrollment. */
  readonly keyId: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body: string;
  readonly signal?: AbortSignal;
  /** Whether a refusal as stale is signed again with the platform's clock; yes unless set false. */
  readonly retryWhenStale?: boolean;
}

/** Signs and sends requests, and keeps the offset between this device's clock and the platform's. */
export class SignedRequests {
  private clockOffsetMs = 0;

  constructor(private readonly options: SignedRequestOptions) {}

  private async signedInit(request: SignedRequest): Promise<RequestInit> {
    const headers = await signTerminalRequest(request.signingKey, {
      method: request.method,
      path: request.path,
      keyId: request.keyId,
      body: request.body,
      timestampMs: Date.now() + this.clockOffsetMs,
    });
    if (request.body !== '') headers['content-type'] = 'application/json';
    const timeoutMs = this.options.requestTimeoutMs;
    const signal = request.signal ?? (timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs));
    return {
      ...this.options.requestInit,
      method: request.method,
      headers,
      ...(request.body === '' ? {} : { body: request.body }),
      ...(signal === undefined ? {} : { signal }),
    };
  }

  /**
   * Sends a signed request and returns the platform's response. A refusal as stale is signed again once,
   * with the clock offset taken from the platform's `serverTime`, unless `retryWhenStale` is false.
   */
  async send(request: SignedRequest): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(
        `${this.options.platformUrl}${request.path}`,
        await this.signedInit(request),
      );
      if (response.status !== 401 || attempt > 0 || request.retryWhenStale === false) return response;
      const answer = (await response
        .clone()
        .json()
        .catch(() => ({}))) as { error?: { code?: unknown; serverTime?: unknown } };
      if (answer.error?.code !== 'terminal_request_expired' || typeof answer.error.serverTime !== 'number') {
        return response;
      }
      this.clockOffsetMs = answer.error.serverTime - Date.now();
    }
  }

  /** The refusal a response's body describes, with the host's words when it says nothing. */
  refusalOf(status: number, body: Record<string, unknown>, unexplained?: string): PlatformRefusal {
    const error = (body['error'] ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof error.code === 'string' ? error.code : `http_${status}`;
    const message =
      typeof error.message === 'string'
        ? error.message
        : (unexplained ?? this.options.unexplainedRefusal(status));
    return new PlatformRefusal(status, code, message);
  }
}

/** The parsed JSON of a response, or an empty object when it has none. */
export async function jsonOf(response: Response): Promise<Record<string, unknown>> {
  return (await response.json().catch(() => ({}))) as Record<string, unknown>;
}

/** The signed API of one enrolled terminal. */
export class TerminalApiClient {
  constructor(
    private readonly requests: SignedRequests,
    private readonly terminalId: string,
    private readonly signingKey: CryptoKey,
  ) {}

  private send(method: 'GET' | 'POST', path: string, body: string, signal?: AbortSignal): Promise<Response> {
    return this.requests.send({
      signingKey: this.signingKey,
      keyId: this.terminalId,
      method,
      path,
      body,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  /** Sends a signed request and returns the parsed JSON, or throws PlatformRefusal. */
  async request(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Record<string, unknown>> {
    const response = await this.send(method, path, payload === undefined ? '' : JSON.stringify(payload));
    const answer = await jsonOf(response);
    if (!response.ok) throw this.requests.refusalOf(response.status, answer);
    return answer;
  }

  /** The open challenges of this terminal. */
  async challenges(): Promise<Challenge[]> {
    return (await this.request('GET', '/v1/terminal/challenges'))['data'] as Challenge[];
  }

  /** Sends the second code of a payment; answers the payment's status. */
  async approve(paymentId: string, secondCode: string): Promise<string> {
    const payment = await this.request('POST', `${paymentPath(paymentId)}/approve`, { secondCode });
    return String(payment['status']);
  }

  /** Options to approve a payment with one of the payer's passkeys, the challenge bound to the payment. */
  async passkeyOptions(paymentId: string): Promise<Record<string, unknown>> {
    return this.request('POST', `${paymentPath(paymentId)}/passkey-options`);
  }

  /** Sends a passkey assertion as the payment's approval; answers the payment's status. */
  async approveWithPasskey(
    paymentId: string,
    challengeId: string,
    response: Record<string, unknown>,
  ): Promise<string> {
    const payment = await this.request('POST', `${paymentPath(paymentId)}/passkey-approve`, {
      challengeId,
      response,
    });
    return String(payment['status']);
  }

  /** Declines a payment the payer does not recognise. */
  async decline(paymentId: string): Promise<void> {
    await this.request('POST', `${paymentPath(paymentId)}/decline`);
  }

  /** Revokes this terminal at the platform. */
  async revoke(): Promise<void> {
    await this.request('POST', '/v1/terminal/revoke');
  }

  /**
   * Reads the event stream until it ends (its lifetime, a restart of the server) or `signal` aborts;
   * throws PlatformRefusal when the platform refuses to open it (e.g. the terminal was revoked). No
   * timeout: the stream stays open for as long as the platform keeps it (an hour at most).
   */
  async stream(onEvent: (event: TerminalEvent) => void, signal: AbortSignal): Promise<void> {
    const response = await this.send('GET', '/v1/terminal/events', '', signal);
    if (!response.ok || response.body === null) {
      throw this.requests.refusalOf(response.status, await jsonOf(response));
    }
    await readTerminalEvents(response.body, onEvent);
  }
}

/** The path of one payment of the terminal API. */
function paymentPath(paymentId: string): string {
  return `/v1/terminal/payments/${encodeURIComponent(paymentId)}`;
}
