/**
 * What the merchant services are built from: the method's dependencies, the merchant stores, settings from
 * configuration, the services they compose (payments, balances) and the webhook transport.
 */

import type { MethodDependencies } from '../method-dependencies.js';
import type { PartyService } from '../parties/party-service.js';
import type { PaymentService } from '../payments/payment-service.js';
import type { WebhookTransport } from '../webhooks/webhook-transport.js';
import type { MerchantStores } from './merchant-stores.js';

/** Settings of the merchant services, from configuration. */
export interface MerchantSettings {
  /** Base URL of hosted checkout pages. */
  readonly publicUrl: string;
  /** Whether webhook targets may be loopback or private addresses (development, tests). */
  readonly webhookAllowPrivateTargets: boolean;
  /** Time one webhook attempt may take. */
  readonly webhookTimeoutMs: number;
}

/** Everything the merchant services need. */
export interface MerchantDependencies extends MethodDependencies, MerchantStores {
  readonly merchantSettings: MerchantSettings;
  readonly payments: PaymentService;
  readonly parties: PartyService;
  readonly webhookTransport: WebhookTransport;
}
