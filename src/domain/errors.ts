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
