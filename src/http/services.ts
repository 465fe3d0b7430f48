/**
 * The services the HTTP routes call. Routes stay thin: validate, call one service, map the result.
 */
import type { AuthenticationService } from '../services/authentication-service.js';
import type { LedgerService } from '../services/ledger-service.js';
import type { PartyService } from '../services/party-service.js';
import type { PaymentService } from '../services/payment-service.js';

/** The method's services, as the routes see them. */
export interface MethodServices {
  readonly authentication: AuthenticationService;
  readonly parties: PartyService;
  readonly payments: PaymentService;
  readonly ledger: LedgerService;
  /** SHA-256 digest of the operator token. */
  readonly operatorTokenHash: Uint8Array;
}
