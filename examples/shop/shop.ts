/**
 * A tiny shop that takes payments with Countersign, written the way a merchant would write it: only the
 * public client (`@countersign/client`) and Node's http module.
 *
 * - `/` sells a product: "Buy" creates an order and a payment request, and sends the customer to the hosted
 *   checkout, which sends them back to the order's page.
 * - `/till` is the shopkeeper's till (embodiment 3): it asks for an amount, the customer starts paying on
 *   their own device with the first code sent to their second terminal, reads the second code aloud, and
 *   the shopkeeper types it in; the shop redeems it.
 * - `/webhooks` receives signed events and marks orders paid; nothing is trusted before the signature is.
 *
 * Orders live in memory: this is an example, not a shop. A real till sits behind the staff's sign-in.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Countersign, CountersignApiError, verifyWebhook } from '@countersign/client';

/** What the shop needs to run. */
export interface ShopOptions {
  /** Where the Countersign platform is. */
  readonly platformUrl: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  readonly host?: string;
  readonly port?: number;
  readonly currency?: string;
}

/** An order of the shop, or a sale at the till. */
export interface Order {
  readonly id: string;
  readonly description: string;
  readonly amount: number;
  readonly paymentRequestId: string;
  checkoutUrl: string;
  status: 'awaiting_payment' | 'paid' | 'expired' | 'canceled';
}

/** A running shop. */
export interface RunningShop {
  readonly url: string;
  readonly orders: ReadonlyMap<string, Order>;
  close(): Promise<void>;
}

const products = [
  { id: 'coffee', name: 'A bag of coffee beans', amount: 1250 },
  { id: 'mug', name: 'A mug', amount: 900 },
] as const;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Example Shop</title></head>
<body><h1>${escapeHtml(title)}</h1>${body}<p><a href="/">Shop</a> · <a href="/till">Till</a></p></body></html>`;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const euros = (cents: number) => `${(cents / 100).toFixed(2)}`;

async function readBody(request: http.IncomingMessage, limitBytes = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the shop; it listens until `close`. */
export async function startShop(options: ShopOptions): Promise<RunningShop> {
  const countersign = new Countersign({ apiKey: options.apiKey, baseUrl: options.platformUrl });
  const currency = options.currency ?? 'EUR';
  const orders = new Map<string, Order>();
  const byRequest = new Map<string, Order>();
  let shopUrl = '';
  // Forms of the shop post here, and "Buy" is redirected to the platform's checkout.
  const policy = `default-src 'none'; form-action 'self' ${new URL(options.platformUrl).origin}; frame-ancestors 'none'`;

  const send = (response: http.ServerResponse, status: number, html: string) =>
    response
      .writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': policy })
      .end(html);
  const redirect = (response: http.ServerResponse, location: string) =>
    response.writeHead(303, { location }).end();

  /**
   * Creates order `id` with its payment request, or returns it if it exists. The id comes with the form
   * (a new one each time the product page is shown), so a "Buy" submitted twice — a double click, a reload
   * that re-posts — names the same order; and it is the request's idempotency key, so even two submissions
   * racing each other get one payment request from the platform.
   */
  async function createOrder(
    id: string,
    description: string,
    amount: number,
    returnToOrder: boolean,
  ): Promise<Order> {
    const existing = orders.get(id);
    if (existing !== undefined) return existing;
    const request = await countersign.paymentRequests.create(
      {
        amount,
        currency,
        reference: `order-${id.slice(0, 8)}`,
        description,
        ...(returnToOrder ? { returnUrl: `${shopUrl}/orders/${id}` } : {}),
      },
      { idempotencyKey: `order-${id}` },
    );
    const order: Order = {
      id,
      description,
      amount,
      paymentRequestId: request.id,
      checkoutUrl: request.checkoutUrl,
      status: 'awaiting_payment',
    };
    // A racing twin may have stored the same order meanwhile; the first one stored stays.
    const stored = orders.get(id) ?? order;
    orders.set(id, stored);
    byRequest.set(request.id, stored);
    return stored;
  }

  function productPage(response: http.ServerResponse) {
    const items = products
      .map(
        (product) => `<li>${escapeHtml(product.name)}, ${euros(product.amount)} ${currency}
<form method="post" action="/orders"><input type="hidden" name="product" value="${product.id}"><input type="hidden" name="order" value="${randomUUID()}"><button>Buy</button></form></li>`,
      )
      .join('');
    send(response, 200, page('Example Shop', `<ul>${items}</ul>`));
  }

  async function orderPage(response: http.ServerResponse, order: Order) {
    if (order.status === 'awaiting_payment') {
      // Back from the checkout before the webhook came: ask the platform instead of waiting.
      const request = await countersign.paymentRequests.retrieve(order.paymentRequestId);
      if (request.status !== 'open') order.status = request.status === 'paid' ? 'paid' : request.status;
    }
    const words = {
      awaiting_payment: `Awaiting payment. <a href="${escapeHtml(order.checkoutUrl)}">Pay now</a>`,
      paid: 'Paid. Thank you!',
      expired: 'The payment request expired.',
      canceled: 'The payment request was canceled.',
    };
    send(
      response,
      200,
      page(
        `Order ${order.id.slice(0, 8)}`,
        `<p>${escapeHtml(order.description)}, ${euros(order.amount)} ${currency}</p>
<p data-status="${order.status}">${words[order.status]}</p>`,
      ),
    );
  }

  function tillPage(response: http.ServerResponse, sale: Order | undefined, message = '', status = 200) {
    if (sale === undefined) {
      const form = `<form method="post" action="/till"><label>Amount (${currency}) <input name="amount" required></label>
<label>What for <input name="description" required maxlength="100"></label><button>Ask to be paid</button></form>`;
      return send(response, status, page('Till', `${message}${form}`));
    }
    const open = sale.status === 'awaiting_payment';
    const redeem = `<p>The customer opens <a href="${escapeHtml(sale.checkoutUrl)}">${escapeHtml(sale.checkoutUrl)}</a> on their phone,
chooses "Send it to my second terminal", and reads you the second code.</p>
<form method="post" action="/till/${sale.paymentRequestId}/redeem"><label>Second code <input name="secondCode" inputmode="numeric" required></label>
<button>Take payment</button></form>`;
    const body = `<p>${escapeHtml(sale.description)}: ${euros(sale.amount)} ${currency}</p>
<p data-status="${sale.status}">${open ? 'Waiting for the customer' : sale.status === 'paid' ? 'Paid' : escapeHtml(sale.status)}</p>
${message}${open ? redeem : '<p><a href="/till">Next customer</a></p>'}`;
    send(response, status, page('Till', body));
  }

  async function redeemAtTill(response: http.ServerResponse, sale: Order, secondCode: string) {
    try {
      await countersign.paymentRequests.redeem(sale.paymentRequestId, { secondCode });
      sale.status = 'paid';
      return redirect(response, `/till/${sale.paymentRequestId}`);
    } catch (error) {
      if (!(error instanceof CountersignApiError)) throw error;
      const messages: Record<string, string> = {
        approval_failed: 'That code is not right. Ask the customer to read it again.',
        invalid_request: 'A second code is 6 to 10 digits.',
        payment_request_no_pending_payment: 'The customer has not started paying yet.',
        payment_request_not_open: 'This sale can no longer be paid.',
        payer_locked: "The customer's account is locked after too many wrong codes.",
      };
      const text = messages[error.code] ?? 'The payment could not be taken.';
      tillPage(response, sale, `<p role="alert">${escapeHtml(text)}</p>`, error.status);
    }
  }

  /** Webhooks: verified before anything in them is believed; unknown events are acknowledged and ignored. */
  async function webhook(request: http.IncomingMessage, response: http.ServerResponse) {
    const raw = await readBody(request);
    const header = request.headers['countersign-signature'];
    let event: Awaited<ReturnType<typeof verifyWebhook>>;
    try {
      event = await verifyWebhook(
        raw,
        typeof header === 'string' ? header : undefined,
        options.webhookSecret,
      );
    } catch {
      return response.writeHead(400).end();
    }
    const object = event.data.object as { id: string; status?: string };
    const order = byRequest.get(object.id);
    if (order !== undefined && event.type === 'payment_request.paid') order.status = 'paid';
    if (order !== undefined && event.type === 'payment_request.expired') order.status = 'expired';
    if (order !== undefined && event.type === 'payment_request.canceled') order.status = 'canceled';
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
  }

  async function route(request: http.IncomingMessage, response: http.ServerResponse) {
    const url = new URL(request.url ?? '/', 'http://shop.invalid');
    const parts = url.pathname.split('/').filter((part) => part !== '');
    const form = async () => new URLSearchParams(await readBody(request));
    if (request.method === 'GET' && url.pathname === '/') return productPage(response);
    if (request.method === 'POST' && url.pathname === '/orders') {
      const fields = await form();
      const product = products.find((item) => item.id === fields.get('product'));
      if (product === undefined) return send(response, 400, page('Unknown product', ''));
      const orderId = fields.get('order') ?? '';
      if (!uuidPattern.test(orderId)) return send(response, 400, page('Reload the shop and buy again', ''));
      const order = await createOrder(orderId, product.name, product.amount, true);
      return redirect(response, order.checkoutUrl);
    }
    if (request.method === 'GET' && parts[0] === 'orders' && parts.length === 2) {
      const order = orders.get(parts[1]!);
      return order === undefined
        ? send(response, 404, page('No such order', ''))
        : orderPage(response, order);
    }
    if (request.method === 'GET' && url.pathname === '/till') return tillPage(response, undefined);
    if (request.method === 'POST' && url.pathname === '/till') {
      const fields = await form();
      const amount = /^[0-9]{1,6}(\.[0-9]{1,2})?$/.test(fields.get('amount') ?? '')
        ? Math.round(Number(fields.get('amount')) * 100)
        : 0;
      if (amount <= 0)
        return tillPage(response, undefined, '<p role="alert">Enter an amount such as 4.50</p>', 400);
      // The till is the shopkeeper's own screen: each sale is a new order.
      const sale = await createOrder(
        randomUUID(),
        (fields.get('description') ?? 'Sale').slice(0, 100) || 'Sale',
        amount,
        false,
      );
      return redirect(response, `/till/${sale.paymentRequestId}`);
    }
    const sale = parts[0] === 'till' && parts[1] !== undefined ? byRequest.get(parts[1]) : undefined;
    if (sale !== undefined && request.method === 'GET' && parts.length === 2) return tillPage(response, sale);
    if (sale !== undefined && request.method === 'POST' && parts[2] === 'redeem') {
      return redeemAtTill(response, sale, ((await form()).get('secondCode') ?? '').trim());
    }
    if (request.method === 'POST' && url.pathname === '/webhooks') return webhook(request, response);
    send(response, 404, page('Not found', ''));
  }

  const server = http.createServer((request, response) => {
    route(request, response).catch(() => {
      if (!response.headersSent)
        send(response, 500, page('Something went wrong', '<p>Please try again.</p>'));
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  shopUrl = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  return {
    url: shopUrl,
    orders,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
