/**
 * Runs the example shop: `COUNTERSIGN_URL=… COUNTERSIGN_API_KEY=… COUNTERSIGN_WEBHOOK_SECRET=… npx tsx
 * examples/shop/main.ts`. See examples/shop/README.md.
 */
import { startShop } from './shop.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`${name} must be set (see examples/shop/README.md)\n`);
    process.exit(1);
  }
  return value;
}

const shop = await startShop({
  platformUrl: process.env['COUNTERSIGN_URL'] ?? 'http://127.0.0.1:8080',
  apiKey: required('COUNTERSIGN_API_KEY'),
  webhookSecret: required('COUNTERSIGN_WEBHOOK_SECRET'),
  port: Number(process.env['SHOP_PORT'] ?? 3000),
});
process.stdout.write(
  `Example shop on ${shop.url} (till: ${shop.url}/till, webhooks: ${shop.url}/webhooks)\n`,
);
