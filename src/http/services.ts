/**
 * The services the HTTP routes call. Routes stay thin: validate, call one service, map the result.
 */
import type { PlatformServices } from '../wiring/platform-services.js';

/** The platform's services as the routes see them, with the operator token's digest. */
export interface HttpServices extends PlatformServices {
  /** SHA-256 digest of the operator token. */
  readonly operatorTokenHash: Uint8Array;
}

/** Kept for route modules written against the method alone. */
export type MethodServices = HttpServices;
