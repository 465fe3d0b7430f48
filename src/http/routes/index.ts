/**
 * Every route module of the platform, in registration order.
 */
import type { RoutePlugin } from '../dependencies.js';
import type { HttpServices } from '../services.js';
import { deliveryRoutes } from './delivery-routes.js';
import { merchantOperatorRoutes } from './merchant-operator-routes.js';
import { merchantRoutes } from './merchant-routes.js';
import { operatorRoutes } from './operator-routes.js';
import { pageAssetRoutes } from './page-assets.js';
import { checkoutPageRoutes } from './page-checkout.js';
import { operatorPageRoutes } from './page-operator.js';
import { payerPageRoutes } from './page-payer.js';
import { terminalPageRoutes } from './page-terminal.js';
import { paymentRoutes } from './payment-routes.js';
import { terminalRoutes } from './terminal-routes.js';

/** The route modules of the whole platform. */
export function platformRoutes(services: HttpServices): RoutePlugin[] {
  return [
    operatorRoutes(services),
    paymentRoutes(services),
    merchantOperatorRoutes(services),
    merchantRoutes(services),
    pageAssetRoutes(),
    payerPageRoutes(services),
    checkoutPageRoutes(services),
    operatorPageRoutes(services),
    terminalRoutes(services),
    deliveryRoutes(services),
    terminalPageRoutes(),
  ];
}
