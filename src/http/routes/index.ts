/**
 * Every route module of the platform, in registration order.
 */
import type { RoutePlugin } from '../dependencies.js';
import type { HttpServices } from '../services.js';
import { operatorRoutes } from './operator-routes.js';
import { paymentRoutes } from './payment-routes.js';

/** The route modules of the whole platform. */
export function platformRoutes(services: HttpServices): RoutePlugin[] {
  return [operatorRoutes(services), paymentRoutes(services)];
}
