/**
 * The command-line terminal's side of the terminal API: signed requests (docs/terminal.md), with one
 * retry after `terminal_request_expired` using the platform's clock from the error (a device whose clock
 * is off still works), and the event stream read as it arrives.
 */
import { signTerminalRequest } from '../../domain/enrollment-credential.js';

/** An answer of the platform. */
export interface PlatformAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

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

/** A challenge as the platform sends it. */
export interface Challenge {
  readonly id: string;
  readonly paymentId: string;
  readonly firstCode: string;
  readonly amount: number;
  readonly currency: string;
  readonly payeeName: string;
  readonly expiresAt: string;
}

/** How long one request may take. */
const requestTimeoutMs = 15_000;

function refusalOf(status: number, body: Record<string, unknown>): PlatformRefusal {
  const error = (body['error'] ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof error.code === 'string' ? error.code : `http_${status}`;
  const message = typeof error.message === 'string' ? error.message : `the platform answered HTTP ${status}`;
  return new PlatformRefusal(status, code, message);
}

/** A signed client of one terminal. */
export class TerminalClient {
  private clockOffsetMs = 0;

  constructor(
    private readonly platformUrl: string,
    private readonly keyId: string,
    private readonly signingKey: CryptoKey,
  ) {}

  private async signedInit(method: 'GET' | 'POST', path: string, body: string): Promise<RequestInit> {
    const headers = await signTerminalRequest(this.signingKey, {
      method,
      path,
      keyId: this.keyId,
      body,
      timestampMs: Date.now() + this.clockOffsetMs,
    });
    if (body !== '') headers['content-type'] = 'application/json';
    return { method, headers, ...(body === '' ? {} : { body }) };
  }

  /**
   * Sends a signed request. A refusal as stale is signed again once, with the clock offset taken from the
   * platform's `serverTime`, so that a computer whose clock is off still works.
   */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: string,
    signal?: AbortSignal,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${this.platformUrl}${path}`, {
        ...(await this.signedInit(method, path, body)),
        signal: signal ?? AbortSignal.timeout(requestTimeoutMs),
      });
      if (response.status !== 401 || attempt > 0) return response;
      const answer = (await response
        .clone()
        .json()
        .catch(() => ({}))) as {
        error?: { code?: unknown; serverTime?: unknown };
      };
      if (answer.error?.code !== 'terminal_request_expired' || typeof answer.error.serverTime !== 'number') {
        return response;
      }
      this.clockOffsetMs = answer.error.serverTime - Date.now();
    }
  }

  /** Sends a signed request and returns the parsed JSON, or throws PlatformRefusal. */
  async request(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<Record<string, unknown>> {
    const response = await this.send(method, path, payload === undefined ? '' : JSON.stringify(payload));
    const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) throw refusalOf(response.status, answer);
    return answer;
  }

  /** The open challenges of this terminal. */
  async challenges(): Promise<Challenge[]> {
    return (await this.request('GET', '/v1/terminal/challenges'))['data'] as Challenge[];
  }

  /**
   * Opens the event stream and calls `onEvent` for each event until the stream ends (its lifetime, a
   * restart of the server) or `signal` aborts. Throws PlatformRefusal when the platform refuses to open it.
   */
  async stream(onEvent: (event: string, data: string) => void, signal?: AbortSignal): Promise<void> {
    // No timeout: the stream stays open for as long as the platform keeps it (an hour at most).
    const response = await this.send(
      'GET',
      '/v1/terminal/events',
      '',
      signal ?? new AbortController().signal,
    );
    if (!response.ok || response.body === null) {
      throw refusalOf(response.status, (await response.json().catch(() => ({}))) as Record<string, unknown>);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let boundary = buffer.indexOf('\n\n'); boundary !== -1; boundary = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length > 0) onEvent(event, data.join('\n'));
      }
    }
  }
}
