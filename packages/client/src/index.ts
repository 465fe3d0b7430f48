/**
 * `@countersign/client`: the typed merchant client. It imports nothing from the platform's server code and
 * needs only global `fetch` and WebCrypto, so it runs in a merchant's Node app, in Deno, Bun or at the edge.
 *
 *     import { Countersign, verifyWebhook } from '@countersign/client';
 *     const countersign = new Countersign({ apiKey: process.env.COUNTERSIGN_API_KEY, baseUrl });
 *     const request = await countersign.paymentRequests.create({ amount: 1250, currency: 'EUR', reference: 'order-17' });
 *     // send the customer to request.checkoutUrl, or redeem the code they read off their second terminal:
 *     await countersign.paymentRequests.redeem(request.id, { secondCode: '12345678' });
 */
export { Countersign, type CountersignOptions } from './countersign.js';
export { apiVersion, CountersignApiError, CountersignConnectionError } from './http.js';
export type * from './types.js';
export { verifyWebhook, WebhookSignatureError, type WebhookSignatureFailure } from './webhook.js';
