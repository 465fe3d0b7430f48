/**
 * The SQL implementations of the merchant stores, for wiring.
 */
import type { MerchantStores } from '../services/merchants/merchant-stores.js';
import { sqlMerchantStore } from '../store/merchant-repository.js';
import { sqlPaymentRequestStore } from '../store/payment-request-repository.js';
import { sqlRefundStore } from '../store/refund-repository.js';
import { sqlWebhookStore } from '../store/webhook-repository.js';

/** Every merchant store in SQL. */
export const sqlMerchantStores: MerchantStores = Object.freeze({
  merchantStore: sqlMerchantStore,
  paymentRequestStore: sqlPaymentRequestStore,
  refundStore: sqlRefundStore,
  webhookStore: sqlWebhookStore,
});
