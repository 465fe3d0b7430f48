/**
 * The SQL implementations of the merchant stores, for wiring.
 */
import type { MerchantStores } from '../services/merchant-stores.js';
import { sqlMerchantStore } from './merchant-repository.js';
import { sqlPaymentRequestStore } from './payment-request-repository.js';
import { sqlRefundStore } from './refund-repository.js';
import { sqlWebhookStore } from './webhook-repository.js';

/** Every merchant store in SQL. */
export const sqlMerchantStores: MerchantStores = Object.freeze({
  merchantStore: sqlMerchantStore,
  paymentRequestStore: sqlPaymentRequestStore,
  refundStore: sqlRefundStore,
  webhookStore: sqlWebhookStore,
});
