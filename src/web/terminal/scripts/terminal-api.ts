/**
 * Page script module: the browser authenticator's client of the terminal API. Every request after
 * enrollment is signed with the terminal's P-256 key (docs/terminal.md, "Signed requests"); a request
 * refused as stale is signed again once with the platform's clock from the error, so that a device whose
 * clock is off still works. The event stream is read with fetch, because EventSource cannot send the
 * signature headers.
 */
import { enrollmentKeyId, signTerminalRequest } from '../../../domain/enrollment-credential.js';

/** A refusal of the platform, with the catalog's code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A pending payment as the platform pushes it. */
export interface Challenge {
  readonly id: string;
  readonly paymentId: string;
  readonly firstCode: string;
  readonly amount: number;
  readonly currency: string;
  readonly payeeName: string;
  readonly expiresAt: string;
}

/** What the stream tells. */
export type StreamEvent =
  | { readonly type: 'challenge'; readonly challenge: Challenge }
  | { readonly type: 'closed'; readonly paymentId: string }
  | { readonly type: 'revoked' };

async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  return new ApiError(
    response.status,
    body.error?.code ?? `http_${response.status}`,
    body.error?.message ?? `The platform answered HTTP ${response.status}.`,
  );
}

let clockOffsetMs = 0;

async function signedFetch(
  privateKey: CryptoKey,
  keyId: string,
  method: 'GET' | 'POST',
  path: string,
  body: string,
  signal?: AbortSignal,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const headers = await signTerminalRequest(privateKey, {
      method,
      path,
      keyId,
      body,
      timestampMs: Date.now() + clockOffsetMs,
    });
    if (body !== '') headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(body === '' ? {} : { body }),
      ...(signal === undefined ? {} : { signal }),
    });
    if (response.status !== 401 || attempt > 0) return response;
    const copy = response.clone();
    const answer = (await copy.json().catch(() => ({}))) as {
      error?: { code?: string; serverTime?: number };
    };
    if (answer.error?.code !== 'terminal_request_expired' || typeof answer.error.serverTime !== 'number') {
      return response;
    }
    clockOffsetMs = answer.error.serverTime - Date.now();
  }
}

/** Redeems an enrollment with a freshly generated key; returns the new terminal's id and label. */
export async function redeemEnrollment(
  privateKey: CryptoKey,
  enrollmentId: string,
  payload: Record<string, string>,
): Promise<{ id: string; label: string | null }> {
  const response = await signedFetch(
    privateKey,
    enrollmentKeyId(enrollmentId),
    'POST',
    '/v1/terminals/enroll',
    JSON.stringify(payload),
  );
  if (response.status !== 201) throw await errorOf(response);
  return ((await response.json()) as { terminal: { id: string; label: string | null } }).terminal;
}

/** The signed API of one enrolled terminal. */
export class TerminalApi {
  constructor(
    private readonly terminalId: string,
    private readonly privateKey: CryptoKey,
  ) {}

  /** Sends a signed request; returns the JSON answer or throws ApiError. */
  async request(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Record<string, unknown>> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const response = await signedFetch(this.privateKey, this.terminalId, method, path, body);
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as Record<string, unknown>;
  }

  /** The open challenges. */
  async challenges(): Promise<Challenge[]> {
    return (await this.request('GET', '/v1/terminal/challenges'))['data'] as Challenge[];
  }

  /** Sends the second code of a payment. */
  async approve(paymentId: string, secondCode: string): Promise<string> {
    const payment = await this.request(
      'POST',
      `/v1/terminal/payments/${encodeURIComponent(paymentId)}/approve`,
      {
        secondCode,
      },
    );
    return String(payment['status']);
  }

  /** Options to approve a payment with one of the payer's passkeys, the challenge bound to the payment. */
  async passkeyOptions(paymentId: string): Promise<Record<string, unknown>> {
    return this.request('POST', `/v1/terminal/payments/${encodeURIComponent(paymentId)}/passkey-options`);
  }

  /** Sends a passkey assertion as the payment's approval; answers the payment's status. */
  async approveWithPasskey(
    paymentId: string,
    challengeId: string,
    response: Record<string, unknown>,
  ): Promise<string> {
    const payment = await this.request(
      'POST',
      `/v1/terminal/payments/${encodeURIComponent(paymentId)}/passkey-approve`,
      { challengeId, response },
    );
    return String(payment['status']);
  }

  /** Declines a payment the payer does not recognise. */
  async decline(paymentId: string): Promise<void> {
    await this.request('POST', `/v1/terminal/payments/${encodeURIComponent(paymentId)}/decline`);
  }

  /** Revokes this terminal at the platform. */
  async revoke(): Promise<void> {
    await this.request('POST', '/v1/terminal/revoke');
  }

  /**
   * Reads the event stream until it ends or `signal` aborts; throws ApiError when the platform refuses
   * to open it (e.g. the terminal was revoked).
   */
  async stream(onEvent: (event: StreamEvent) => void, signal: AbortSignal): Promise<void> {
    const response = await signedFetch(
      this.privateKey,
      this.terminalId,
      'GET',
      '/v1/terminal/events',
      '',
      signal,
    );
    if (!response.ok || response.body === null) throw await errorOf(response);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = parseBlock(block);
        if (event !== undefined) onEvent(event);
      }
    }
  }
}

function parseBlock(block: string): StreamEvent | undefined {
  let name = '';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (name === 'challenge') return { type: 'challenge', challenge: JSON.parse(data) as Challenge };
  if (name === 'closed')
    return { type: 'closed', paymentId: (JSON.parse(data) as { paymentId: string }).paymentId };
  if (name === 'revoked') return { type: 'revoked' };
  return undefined;
}
