/**
 * The audit events of second terminals and their deliveries, added to the audit log's registry. None of
 * them carries a secret: enrollments, terminals and deliveries are named by their ids only.
 */

declare module './audit.js' {
  interface AuditEventRegistry {
    /** An enrollment was issued for a payer (at creation of the payer or on request). */
    enrollment_issued: true;
    /** A device redeemed an enrollment and registered its signing key. */
    enrollment_redeemed: true;
    /** A device redeemed an enrollment with a verification code that did not confirm it. */
    enrollment_failed: true;
    /** A payer registered a passkey as a terminal (its id and the authenticator's AAGUID, never a key). */
    passkey_registered: true;
    /** A terminal (an OCRA device, or a passkey with `kind: "passkey"`) was revoked by the operator, its payer, or itself. */
    terminal_revoked: true;
    /** A delivery was given up after its last attempt, or its payment closed before it went out. */
    delivery_failed: true;
    /** The operator made a failed delivery pending again. */
    delivery_retried: true;
  }
}

export {};
