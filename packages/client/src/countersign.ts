/**
 * The Countersign merchant client: payment requests and their redemption, refunds, balance, events and
 * webhook deliveries. Every POST carries an Idempotency-Key (given, or a fresh random one) and is retried
 * with that same key after a network failure, so it is safe to call again.
 */
import { callApi, type HttpOptions } from './http.js';
import type {
  Balance,
  List,
  ListParams,
  Merchant,
  PaymentRequest,
  PaymentRequestCreateParams,
  Refund,
  RefundCreateParams,
  RequestOptions,
  WebhookDelivery,
  WebhookEvent,
} from './types.js';

/** Options of the client. */
export interface CountersignOptions {
  /** The merchant's API key (`cs_live_…`). */
  readonly apiKey: string;
  /** Where the platform is, e.g. `https://pay.example.com`. */
  readonly baseUrl: string;
  /** Retries of a failed call (network failure, timeout, 409 in use, 429, 5xx); 2 by default, 0–10. */
  readonly maxNetworkRetries?: number;
  /** Time one attempt may take; 30 s by default. */
  readonly timeoutMs?: number;
  /** First backoff wait; 500 ms by default. */
  readonly backoffBaseMs?: number;
  /** A fetch to use instead of the global one. */
  readonly fetch?: typeof fetch;
}

function query(params: ListParams): string {
  const search = new URLSearchParams();
  if (params.limit !== undefined) search.set('limit', String(params.limit));
  if (params.startingAfter !== undefined) search.set('starting_after', params.startingAfter);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

const segment = encodeURIComponent;

/** The merchant client. */
export class Countersign {
  private readonly http: HttpOptions;

  constructor(options: CountersignOptions) {
    const retries = options.maxNetworkRetries ?? 2;
    if (!Number.isInteger(retries) || retries < 0 || retries > 10) {
      throw new RangeError('maxNetworkRetries must be a whole number from 0 to 10');
    }
    this.http = {
      apiKey: options.apiKey,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      maxNetworkRetries: retries,
      timeoutMs: options.timeoutMs ?? 30_000,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    };
  }

  private get<T>(path: string): Promise<T> {
    return callApi<T>(this.http, 'GET', path);
  }

  private post<T>(path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return callApi<T>(this.http, 'POST', path, body, options.idempotencyKey);
  }

  /** Every item of a list, page by page (each page one request). */
  private async *all<T extends { id: string }>(path: string, pageSize = 100): AsyncGenerator<T> {
    let startingAfter: string | undefined;
    for (;;) {
      const page = await this.get<List<T>>(
        `${path}${query({ limit: pageSize, ...(startingAfter === undefined ? {} : { startingAfter }) })}`,
      );
      yield* page.data;
      const last = page.data.at(-1);
      if (!page.hasMore || last === undefined) return;
      startingAfter = last.id;
    }
  }

  /** Payment requests: ask to be paid, read, cancel, redeem a second code (embodiment 3). */
  readonly paymentRequests = {
    create: (params: PaymentRequestCreateParams, options?: RequestOptions) =>
      this.post<PaymentRequest>('/v1/payment-requests', params, options),
    retrieve: (id: string) => this.get<PaymentRequest>(`/v1/payment-requests/${segment(id)}`),
    list: (params: ListParams = {}) => this.get<List<PaymentRequest>>(`/v1/payment-requests${query(params)}`),
    listAll: () => this.all<PaymentRequest>('/v1/payment-requests'),
    cancel: (id: string, options?: RequestOptions) =>
      this.post<PaymentRequest>(`/v1/payment-requests/${segment(id)}/cancel`, undefined, options),
    /** Approves the payer's pending payment with the second code they read off their second terminal. */
    redeem: (id: string, params: { secondCode: string }, options?: RequestOptions) =>
      this.post<PaymentRequest>(`/v1/payment-requests/${segment(id)}/redeem`, params, options),
  };

  /** Refunds of succeeded payments. */
  readonly refunds = {
    create: (params: RefundCreateParams, options?: RequestOptions) =>
      this.post<Refund>('/v1/refunds', params, options),
    retrieve: (id: string) => this.get<Refund>(`/v1/refunds/${segment(id)}`),
    list: (params: ListParams = {}) => this.get<List<Refund>>(`/v1/refunds${query(params)}`),
    listAll: () => this.all<Refund>('/v1/refunds'),
  };

  /** The merchant's balance. */
  readonly balance = {
    retrieve: (currency: string) => this.get<Balance>(`/v1/balance?currency=${segment(currency)}`),
  };

  /** Events, as delivered to the webhook. */
  readonly events = {
    retrieve: (id: string) => this.get<WebhookEvent>(`/v1/events/${segment(id)}`),
    list: (params: ListParams = {}) => this.get<List<WebhookEvent>>(`/v1/events${query(params)}`),
    listAll: () => this.all<WebhookEvent>('/v1/events'),
  };

  /** Webhook deliveries with every attempt; a delivery can be replayed. */
  readonly webhookDeliveries = {
    retrieve: (id: string) => this.get<WebhookDelivery>(`/v1/webhook-deliveries/${segment(id)}`),
    list: (params: ListParams = {}) =>
      this.get<List<WebhookDelivery>>(`/v1/webhook-deliveries${query(params)}`),
    replay: (id: string, options?: RequestOptions) =>
      this.post<WebhookDelivery>(`/v1/webhook-deliveries/${segment(id)}/replay`, undefined, options),
  };

  /** The merchant's own settings. */
  readonly merchant = {
    retrieve: () => this.get<Merchant>('/v1/merchant'),
    update: (params: { webhookUrl: string | null }, options?: RequestOptions) =>
      this.post<Merchant>('/v1/merchant', params, options),
  };
}
