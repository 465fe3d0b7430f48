/**
 * What a page tells a person for each error code. Codes without an entry here show the catalog's own
 * message, which is already written for people; the entries below say it in the words of a page (a form
 * to fix, a button to press) instead of an API's. Like the catalog, no message ever says which
 * authentication factor was wrong.
 */
import { type ErrorCode, errorCatalog } from '../domain/errors.js';

const pageMessages: Partial<Record<ErrorCode, string>> = {
  invalid_request: 'Some of what you entered is not valid. Check the highlighted fields and try again.',
  unsupported_media_type: 'This form could not be read. Reload the page and try again.',
  payload_too_large: 'What you entered is too long. Shorten it and try again.',
  route_not_found: 'There is no page at this address.',
  authentication_required: 'Please sign in to continue. If you were signed in, your session has ended.',
  authentication_failed: 'The id or the password is not correct. Check both and try again.',
  approval_failed:
    'These codes do not approve this payment. Check what you entered and try again; after three wrong attempts the payment fails.',
  forbidden: 'You are not allowed to do this.',
  passkey_registration_failed: 'The passkey could not be added. Go back to your terminals and add it again.',
  passkey_challenge_limit_reached:
    'Too many passkey requests are open at once. Wait a few minutes, then try again.',
  insufficient_funds: 'Your available balance does not cover this amount.',
  payer_not_found: 'No payer has this id.',
  payee_not_found: 'No payee has this id. Check the payee and try again.',
  payment_not_found: 'This payment does not exist or is not yours.',
  payment_not_approvable:
    'This payment can no longer be approved: it was approved, failed, canceled or expired.',
  payment_not_cancelable: 'This payment can no longer be canceled.',
  payer_locked:
    'Signing in and approving are locked after too many failed attempts. Wait until the lock ends, or contact the operator.',
  operator_sign_in_failed:
    'The name, password or code is not correct, or the set-up code is used or expired. Check them and try again with a new code.',
  operator_locked:
    'Signing in is locked after too many failed attempts. Wait until the lock ends, or ask an admin.',
  rate_limited: 'Too many requests from your address. Wait a minute, then try again.',
  internal_error: 'Something went wrong on our side. Nothing was changed unless a page says so; try again.',
  service_unavailable: 'The service is temporarily unavailable. Try again in a few minutes.',
  csrf_token_invalid:
    'This form has expired or did not come from this site. Reload the page and submit it again.',
};

/** The sentence a page shows for `code`. */
export function pageMessage(code: ErrorCode): string {
  return pageMessages[code] ?? errorCatalog[code].message;
}

/**
 * The sentence a page shows for `error`: the code's sentence, and for a lock, when it ends (UTC, to the
 * minute). The API answers the same end (`lockedUntil`) for any claimed id, existing or not.
 */
export function errorPageMessage(error: {
  readonly code: ErrorCode;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
}): string {
  const sentence = pageMessage(error.code);
  const lockedUntil = error.details?.['lockedUntil'];
  if ((error.code !== 'payer_locked' && error.code !== 'operator_locked') || typeof lockedUntil !== 'string')
    return sentence;
  return `${sentence} The lock ends at ${lockedUntil.slice(11, 16)} UTC on ${lockedUntil.slice(0, 10)}.`;
}

/**
 * The sentence for a failed form: a validation error's own message (it names the field and the rule, and
 * carries nothing secret), or the page's sentence for the code.
 */
export function formErrorMessage(error: {
  readonly code: ErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>> | undefined;
}): string {
  return error.code === 'invalid_request' ? error.message : errorPageMessage(error);
}
