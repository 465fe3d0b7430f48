/**
 * Builds the merchant services over the method's, and their background jobs: the expiry of payment
 * requests and the webhook delivery job. The payment request service is wired as an observer of payments,
 * so that a request follows its payment inside the payment's own transactions.
 */
import { webhookLimits } from '../domain/limits.js';
import type { BackgroundJob } from '../services/background-jobs.js';
import type { MerchantSettings } from '../services/merchants/merchant-dependencies.js';
import { MerchantService } from '../services/merchants/merchant-service.js';
import type { MerchantStores } from '../services/merchants/merchant-stores.js';
import { PaymentRequestService } from '../services/merchants/payment-request-service.js';
import { RefundService } from '../services/merchants/refund-service.js';
import { WebhookService } from '../services/webhooks/webhook-service.js';
import { httpWebhookTransport, type WebhookTransport } from '../services/webhooks/webhook-transport.js';
import type { MethodServiceSet } from './method-service-set.js';

/** Settings a deployment may choose for merchants (both optional: safe defaults). */
export interface MerchantConfiguration {
  readonly publicUrl: string;
  readonly webhookAllowPrivateTargets?: boolean;
  readonly webhookTimeoutMs?: number;
}

/** The merchant services. */
export interface MerchantServiceSet {
  readonly merchants: MerchantService;
  readonly paymentRequests: PaymentRequestService;
  readonly refunds: RefundService;
  readonly webhooks: WebhookService;
}

/** Wires the merchant services and returns them with their jobs. */
export function createMerchantServices(input: {
  readonly method: MethodServiceSet;
  readonly stores: MerchantStores;
  readonly configuration: MerchantConfiguration;
  readonly sweepIntervalMs: number;
  readonly webhookTransport?: WebhookTransport;
}): { services: MerchantServiceSet; jobs: BackgroundJob[] } {
  const settings: MerchantSettings = {
    publicUrl: input.configuration.publicUrl,
    webhookAllowPrivateTargets: input.configuration.webhookAllowPrivateTargets ?? false,
    webhookTimeoutMs: input.configuration.webhookTimeoutMs ?? webhookLimits.attemptTimeoutMsDefault,
  };
  const deps = {
    ...input.method.deps,
    ...input.stores,
    merchantSettings: settings,
    payments: input.method.payments,
    parties: input.method.parties,
    webhookTransport:
      input.webhookTransport ??
      httpWebhookTransport({ allowPrivateTargets: settings.webhookAllowPrivateTargets }),
  };
  const merchants = new MerchantService(deps);
  const webhooks = new WebhookService(deps, merchants);
  const paymentRequests = new PaymentRequestService(deps, webhooks);
  const refunds = new RefundService(deps, webhooks);
  input.method.payments.observe(paymentRequests);
  const every = input.sweepIntervalMs;
  const jobs: BackgroundJob[] = [
    { name: 'expire-payment-requests', intervalMs: every, run: () => paymentRequests.expireDue() },
    { name: 'deliver-webhooks', intervalMs: every, run: () => webhooks.deliverDue() },
  ];
  return { services: { merchants, paymentRequests, refunds, webhooks }, jobs };
}
