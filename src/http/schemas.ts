/**
 * Request and response schemas of the API (TypeBox = JSON Schema). The same objects validate requests
 * and generate `/openapi.json`, so the document cannot drift from what the server accepts.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { limits } from '../domain/limits.js';
import { amountToJson } from '../domain/money.js';
import { partyIdPattern, verificationCodePattern } from '../domain/payer.js';
import type { Payment } from '../domain/payment.js';
import { secondCodePattern } from '../domain/terminal-suite.js';

export const PartyId = Type.String({
  pattern: partyIdPattern.source,
  description: 'Payer identification code or payee id',
});
/**
 * Text without control characters (C0 and DEL), for names and labels shown to people: a control character
 * in a name is never meant (it is an injection into a log line, a terminal or a page), and NUL cannot be
 * stored at all. Free text such as a description may hold line breaks; only NUL is refused there
 * (by the JSON parser, for every field).
 */
export const noControlCharacterPattern = '^[^\\u0000-\\u001f\\u007f]*$';
/** A name or label of `lengthMax` characters at most, without control characters. */
export function displayName(lengthMax: number, description?: string) {
  return Type.String({
    minLength: 1,
    maxLength: lengthMax,
    pattern: noControlCharacterPattern,
    ...(description !== undefined && { description }),
  });
}
/**
 * A payer id as claimed when signing in or paying with a password: any text of 1 to 64 characters without
 * control characters, not the id pattern, so that an id no payer could have is answered exactly like an
 * unknown one, and counted like it (docs/security.md, "No enumeration").
 */
export const ClaimedPayerId = Type.String({
  minLength: 1,
  maxLength: limits.partyIdLengthMax,
  pattern: noControlCharacterPattern,
});
export const Amount = Type.Integer({
  minimum: 1,
  maximum: limits.apiAmountMax,
  description: 'Integer minor units (cents for EUR)',
});
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 currency code' });
export const Password = Type.String({ minLength: 1, maxLength: limits.passwordLengthMax });
export const VerificationCode = Type.String({ pattern: verificationCodePattern.source });
export const FirstCode = Type.String({ pattern: '^[0-9]{8}$' });
export const SecondCode = Type.String({ pattern: secondCodePattern.source });
export const DeliverTo = Type.Union([Type.Literal('first_terminal'), Type.Literal('second_terminal')]);
export const Uuid = Type.String({
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
});
export const IdParams = Type.Object({ id: PartyId });
export const PaymentIdParams = Type.Object({ id: Uuid });
export const CurrencyQuery = Type.Object({ currency: Currency }, { additionalProperties: false });

export const PaymentStatus = Type.Union(
  ['requires_approval', 'succeeded', 'canceled', 'expired', 'failed'].map((s) => Type.Literal(s)),
);

/** Every time the API answers with: ISO 8601 in UTC, milliseconds included (docs/api.md, "Times"). */
export const Timestamp = Type.String({ format: 'date-time' });
/** `schema`, or null. */
export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** The `object` field every JSON object of the API carries: what kind of object it is. */
export const objectOf = <T extends string>(name: T) =>
  Type.Literal(name, { description: 'What kind of object this is' });

/** A page of a list: `{object: "list", data, hasMore}`. */
export function listOf<T extends TSchema>(item: T) {
  return Type.Object(
    { object: objectOf('list'), data: Type.Array(item), hasMore: Type.Boolean() },
    { additionalProperties: false },
  );
}

/**
 * Metadata as a request sends it and an answer returns it (domain/metadata.ts holds the rule; the bounds
 * here are the same limits, so that the document says them). A request's metadata that breaks them is
 * `metadata_invalid` (app.ts maps this schema's violations to it), and creates nothing.
 */
export const MetadataJson = Type.Unsafe<Record<string, string>>({
  // Written out: TypeBox's Record becomes patternProperties, which OpenAPI 3.0 does not have.
  type: 'object',
  additionalProperties: { type: 'string', maxLength: limits.metadataValueLengthMax },
  maxProperties: limits.metadataKeysMax,
  description: `Your own key/value strings: at most ${limits.metadataKeysMax} keys of 1 to ${limits.metadataKeyLengthMax} characters, values of at most ${limits.metadataValueLengthMax} characters`,
});

export const PaymentResponse = Type.Object(
  {
    id: Type.String(),
    object: objectOf('payment'),
    status: PaymentStatus,
    payerId: Type.String(),
    payeeId: Type.String(),
    amount: Type.Integer(),
    currency: Type.String(),
    deliverTo: DeliverTo,
    failedApprovals: Type.Integer(),
    paymentRequestId: Type.Union([Type.String(), Type.Null()]),
    metadata: MetadataJson,
    createdAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    firstCode: Type.Optional(FirstCode),
  },
  { additionalProperties: false },
);
export type PaymentResponse = Static<typeof PaymentResponse>;

/** The short answer of an approval to a caller who holds only the codes: the outcome, nothing more. */
export const PaymentOutcomeJson = Type.Object(
  { id: Type.String(), object: objectOf('payment'), status: PaymentStatus },
  { additionalProperties: false },
);

/** A payment as the API shows it. Amounts within the API's bound are exact as JSON numbers. */
export function paymentJson(payment: Payment, firstCode?: string): PaymentResponse {
  return {
    id: payment.id,
    object: 'payment',
    status: payment.status,
    payerId: payment.payerId,
    payeeId: payment.payeeId,
    amount: amountToJson(payment.amount),
    currency: payment.currency,
    deliverTo: payment.deliverTo,
    failedApprovals: payment.failedApprovals,
    paymentRequestId: payment.paymentRequestId,
    metadata: payment.metadata,
    createdAt: new Date(payment.createdAtMs).toISOString(),
    expiresAt: new Date(payment.expiresAtMs).toISOString(),
    updatedAt: new Date(payment.updatedAtMs).toISOString(),
    ...(firstCode === undefined ? {} : { firstCode }),
  };
}
