/**
 * The error catalog: every expected failure of the platform, with its stable code, HTTP status, type and
 * default message. A client programs against `code`; `message` is for people and may be reworded.
 * `docs/errors.md` documents every code, and a test keeps the two in step.
 *
 * Messages never say which authentication factor was wrong (payer id or password, first or second code),
 * because telling an attacker which half of a guess was right halves the work of the next guess.
 */

/** The broad class of an error, so that a client can route a failure it does not know the code of. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'approval_error'
  | 'rate_limit_error'
  | 'conflict_error'
  | 'api_error'
  | 'not_found_error'
  | 'payment_error';

/** One catalog entry. */
export interface ErrorCatalogEntry {
  readonly status: number;
  readonly type: ErrorType;
  readonly message: string;
}

/** Every error code the platform answers with. Add a code here and a row in docs/errors.md together. */
export const errorCatalog = Object.freeze({
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'The request is invalid.' },
  unsupported_media_type: {
    status: 415,
    type: 'invalid_request_error',
    message: 'The request body must be JSON, sent with Content-Type: application/json.',
  },
  payload_too_large: {
    status: 413,
    type: 'invalid_request_error',
    message: 'The request body is too large.',
  },
  uri_too_long: {
    status: 414,
    type: 'invalid_request_error',
    message: 'A path parameter of the URL is longer than the limit.',
  },
  route_not_found: {
    status: 404,
    type: 'not_found_error',
    message: 'No endpoint answers to this method and path.',
  },
  authentication_required: {
    status: 401,
    type: 'authentication_error',
    message: 'This endpoint requires valid credentials.',
  },
  authentication_failed: {
    status: 401,
    type: 'authentication_error',
    message: 'The payer id or the password is incorrect.',
  },
  approval_failed: {
    status: 401,
    type: 'approval_error',
    message: 'The codes given do not approve this payment.',
  },
  forbidden: {
    status: 403,
    type: 'authentication_error',
    message: 'These credentials do not allow this action.',
  },
  csrf_token_invalid: {
    status: 403,
    type: 'invalid_request_error',
    message: 'This form has expired or did not come from this site; reload the page and try again.',
  },
  insufficient_funds: {
    status: 402,
    type: 'payment_error',
    message: 'The available balance does not cover this amount.',
  },
  payer_not_found: { status: 404, type: 'not_found_error', message: 'No payer has this id.' },
  payee_not_found: { status: 404, type: 'not_found_error', message: 'No payee has this id.' },
  payment_not_found: { status: 404, type: 'not_found_error', message: 'No payment has this id.' },
  payer_exists: { status: 409, type: 'conflict_error', message: 'A payer with this id already exists.' },
  payee_exists: { status: 409, type: 'conflict_error', message: 'A payee with this id already exists.' },
  payment_not_approvable: {
    status: 409,
    type: 'conflict_error',
    message: 'This payment can no longer be approved.',
  },
  payment_not_cancelable: {
    status: 409,
    type: 'conflict_error',
    message: 'This payment can no longer be canceled.',
  },
  enrollment_not_found: { status: 404, type: 'not_found_error', message: 'No enrollment has this id.' },
  enrollment_invalid: {
    status: 401,
    type: 'authentication_error',
    message: 'This enrollment is unknown or its secret is wrong.',
  },
  enrollment_not_redeemable: {
    status: 409,
    type: 'conflict_error',
    message: 'This enrollment can no longer be redeemed.',
  },
  enrollment_confirmation_failed: {
    status: 401,
    type: 'authentication_error',
    message: 'The verification code does not confirm this enrollment.',
  },
  terminal_not_found: { status: 404, type: 'not_found_error', message: 'No terminal has this id.' },
  terminal_limit_reached: {
    status: 409,
    type: 'conflict_error',
    message: 'This payer already has as many terminals or open enrollments as allowed.',
  },
  passkey_registration_failed: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The passkey could not be registered.',
  },
  passkey_challenge_limit_reached: {
    status: 429,
    type: 'rate_limit_error',
    message: 'Too many passkey ceremonies of this payer are open at once.',
  },
  terminal_authentication_failed: {
    status: 401,
    type: 'authentication_error',
    message: 'The request is not signed by an enrolled terminal.',
  },
  terminal_request_expired: {
    status: 401,
    type: 'authentication_error',
    message: "The request's timestamp is too far from the platform's clock.",
  },
  terminal_request_replayed: {
    status: 401,
    type: 'authentication_error',
    message: 'This signed request was already received.',
  },
  terminal_revoked: { status: 401, type: 'authentication_error', message: 'This terminal was revoked.' },
  terminal_streams_exhausted: {
    status: 429,
    type: 'rate_limit_error',
    message: 'Too many event streams are open for this terminal.',
  },
  delivery_not_found: { status: 404, type: 'not_found_error', message: 'No delivery has this id.' },
  delivery_not_retryable: {
    status: 409,
    type: 'conflict_error',
    message: 'Only a failed delivery can be retried.',
  },
  idempotency_key_in_use: {
    status: 409,
    type: 'conflict_error',
    message: 'A request with this idempotency key is still being processed; retry later.',
  },
  idempotency_key_reused: {
    status: 422,
    type: 'invalid_request_error',
    message: 'This idempotency key was already used for a different request.',
  },
  payer_locked: {
    status: 423,
    type: 'authentication_error',
    message: 'This payer is locked after too many failed attempts.',
  },
  rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    message: 'Too many requests; retry after the time given in Retry-After.',
  },
  merchant_not_found: { status: 404, type: 'not_found_error', message: 'No merchant has this id.' },
  api_key_not_found: {
    status: 404,
    type: 'not_found_error',
    message: 'This merchant has no API key with this id.',
  },
  api_key_revoked: {
    status: 409,
    type: 'conflict_error',
    message: 'This API key is revoked or expired and cannot be rotated.',
  },
  too_many_api_keys: {
    status: 409,
    type: 'conflict_error',
    message: 'This merchant has the most active API keys allowed; revoke one first.',
  },
  payment_request_not_found: {
    status: 404,
    type: 'not_found_error',
    message: 'No payment request has this id.',
  },
  payment_request_not_open: {
    status: 409,
    type: 'conflict_error',
    message: 'This payment request is no longer open.',
  },
  payment_request_in_progress: {
    status: 409,
    type: 'conflict_error',
    message: 'A payment for this request is already awaiting approval.',
  },
  payment_request_no_pending_payment: {
    status: 409,
    type: 'conflict_error',
    message: 'No payment for this request awaits approval yet; the payer must start paying first.',
  },
  payment_not_refundable: {
    status: 409,
    type: 'conflict_error',
    message: 'Only a succeeded payment can be refunded.',
  },
  refund_exceeds_remaining: {
    status: 409,
    type: 'conflict_error',
    message: 'The refund exceeds what is left to refund of this payment.',
  },
  merchant_balance_insufficient: {
    status: 402,
    type: 'payment_error',
    message: "The merchant's available balance does not cover this refund.",
  },
  refund_not_found: { status: 404, type: 'not_found_error', message: 'No refund has this id.' },
  event_not_found: { status: 404, type: 'not_found_error', message: 'No event has this id.' },
  webhook_delivery_not_found: {
    status: 404,
    type: 'not_found_error',
    message: 'No webhook delivery has this id.',
  },
  webhook_url_not_set: {
    status: 409,
    type: 'conflict_error',
    message: 'This merchant has no webhook URL to deliver to.',
  },
  operator_not_found: { status: 404, type: 'not_found_error', message: 'No operator has this name.' },
  operator_exists: {
    status: 409,
    type: 'conflict_error',
    message: 'An operator with this name already exists.',
  },
  operator_sign_in_failed: {
    status: 401,
    type: 'authentication_error',
    message: 'The name, password or code is incorrect, or the set-up code is used or expired.',
  },
  operator_locked: {
    status: 423,
    type: 'authentication_error',
    message: 'This operator is locked after too many failed sign-ins.',
  },
  backup_unavailable: {
    status: 409,
    type: 'conflict_error',
    message: 'The platform runs on PostgreSQL: back it up with PostgreSQL’s own tools.',
  },
  internal_error: {
    status: 500,
    type: 'api_error',
    message: 'Something went wrong on our side; the request may be retried.',
  },
  service_unavailable: {
    status: 503,
    type: 'api_error',
    message: 'The service is temporarily unavailable; retry later.',
  },
  api_version_unknown: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The Countersign-Version header names no version of the API.',
  },
  metadata_invalid: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The metadata is not an object of at most 20 keys with string values within the limits.',
  },
} as const satisfies Record<string, ErrorCatalogEntry>);

/** A stable error code. */
export type ErrorCode = keyof typeof errorCatalog;

/** Extra public fields of an error response, e.g. the current `status` of a payment. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

/** Options of a CountersignError. */
export interface CountersignErrorOptions {
  /** Overrides the catalog message; it must still be safe to show to the client. */
  readonly message?: string;
  /** The request field at fault, e.g. `amount` or `Idempotency-Key`. */
  readonly param?: string;
  /** Public fields merged into the error object of the response. */
  readonly details?: ErrorDetails;
  /** The underlying error, for the log only; never sent to the client. */
  readonly cause?: unknown;
}

/** Returns true when `code` names a catalog entry. */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorCatalog, code);
}

/**
 * An expected failure with a stable code. Everything it carries except `cause` is public: the HTTP layer
 * sends code, type, message, param and details to the client as they are.
 */
export class CountersignError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | undefined;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, options: CountersignErrorOptions = {}) {
    const catalogEntry: ErrorCatalogEntry = errorCatalog[code];
    super(
      options.message ?? catalogEntry.message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.name = 'CountersignError';
    this.code = code;
    this.status = catalogEntry.status;
    this.type = catalogEntry.type;
    this.param = options.param;
    this.details = options.details;
  }
}
