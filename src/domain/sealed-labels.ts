/**
 * The labels (associated data) that bind each sealed value to its row: a sealed value copied to another
 * row, or another column, does not open. They live in the domain because both sides need the same
 * string: the services that seal and open the values, and the store's master-key rotation, which re-seals
 * every sealed column (`store/sealed-value-repository.ts`).
 */

/** The sealed-data label of a payer's verification code: binds the ciphertext to its row. */
export function verificationCodeLabel(payerId: string): string {
  return `payer:${payerId}:verification_code`;
}

/** The sealed-data label of a terminal key. */
export function terminalKeyLabel(terminalId: string): string {
  return `terminal:${terminalId}:key`;
}

/** The sealed-data label of an enrollment's OCRA key (until its terminal exists). */
export function enrollmentKeyLabel(enrollmentId: string): string {
  return `enrollment:${enrollmentId}:key`;
}

/** The sealed-data label of an enrollment's URI (kept to show its QR code again while it is open). */
export function enrollmentUriLabel(enrollmentId: string): string {
  return `enrollment:${enrollmentId}:uri`;
}

/** The sealed-data label of a merchant's webhook secret: binds the ciphertext to its row. */
export function webhookSecretLabel(merchantId: string): string {
  return `merchant:${merchantId}:webhook_secret`;
}

/** Associated data of an operator's sealed TOTP key: a sealed value moved to another row does not open. */
export function operatorTotpKeyLabel(operatorId: string): string {
  return `operators.totp_key:${operatorId}`;
}

/** Associated data of a sealed platform key: binds it to its row. */
export function platformKeyLabel(name: string): string {
  return `platform_key:${name}`;
}

/** Associated data of a stored response: binds it to its row. */
export function idempotencyResponseLabel(scope: string, key: string): string {
  return `idempotency:${scope}:${key}`;
}

/** The associated data an outbox payload is sealed with (see payment-service). */
export function deliveryPayloadLabel(deliveryId: string): string {
  return `delivery:${deliveryId}`;
}

/** The associated data of a development-outbox message. */
export function developmentMessageLabel(deliveryId: string): string {
  return `development_outbox:${deliveryId}`;
}
