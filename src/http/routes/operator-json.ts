/**
 * The answers of the operator endpoints, field by field: operator accounts, payers, payees, deposits,
 * balances and locks. The schemas also serialise the answers, so a field left out here is dropped.
 */
import { Type } from '@sinclair/typebox';
import { operatorRoles } from '../../domain/operator.js';
import { listOf, nullable, objectOf, Timestamp } from '../schemas.js';

const Role = Type.Union(operatorRoles.map((role) => Type.Literal(role)));

/** A new operator account: its one-time set-up code is in this answer only. */
export const CreatedOperatorJson = Type.Object(
  {
    object: objectOf('operator'),
    id: Type.String(),
    name: Type.String(),
    role: Role,
    setupCode: Type.String({ description: 'Used once at /operator/setup; shown once' }),
    setupExpiresAt: Timestamp,
  },
  { additionalProperties: false },
);

/** The operator accounts. */
export const OperatorListJson = listOf(
  Type.Object(
    {
      object: objectOf('operator'),
      id: Type.String(),
      name: Type.String(),
      role: Role,
      active: Type.Boolean({ description: 'False until the set-up is done' }),
      openSessions: Type.Integer({ minimum: 0 }),
      createdBy: Type.String(),
      createdAt: Timestamp,
    },
    { additionalProperties: false },
  ),
);

/** How many console sessions of an operator were ended. */
export const EndedSessionsJson = Type.Object(
  { object: objectOf('operator_sessions'), name: Type.String(), ended: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

/** A created payer with its first terminal: the terminal key is in this answer only. */
export const CreatedPayerJson = Type.Object(
  {
    object: objectOf('payer'),
    id: Type.String(),
    terminal: nullable(
      Type.Object(
        {
          id: Type.String(),
          suite: Type.String(),
          keyHex: Type.String({ description: 'The OCRA key of the second terminal; shown once' }),
          enrollmentUri: Type.String(),
        },
        {
          additionalProperties: false,
          description: 'null when the payer was created with firstTerminal none',
        },
      ),
    ),
    enrollment: Type.Optional(
      Type.Object({ id: Type.String(), expiresAt: Timestamp }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

/** A payee. */
export const PayeeJson = Type.Object(
  { object: objectOf('payee'), id: Type.String(), name: Type.String() },
  { additionalProperties: false },
);

/** A deposit into a payer's wallet. */
export const DepositJson = Type.Object(
  {
    object: objectOf('deposit'),
    id: Type.String(),
    payerId: Type.String(),
    amount: Type.Integer({ description: 'Integer minor units' }),
    currency: Type.String(),
  },
  { additionalProperties: false },
);

/** A payer's balance in one currency. */
export const PayerBalanceJson = Type.Object(
  {
    object: objectOf('balance'),
    payerId: Type.String(),
    currency: Type.String(),
    available: Type.Integer({ description: 'What the payer can spend' }),
    held: Type.Integer({ description: 'Reserved by payments waiting for approval' }),
  },
  { additionalProperties: false },
);

/** A payee's balance in one currency. */
export const PayeeBalanceJson = Type.Object(
  {
    object: objectOf('balance'),
    payeeId: Type.String(),
    currency: Type.String(),
    available: Type.Integer(),
    incoming: Type.Integer({ description: 'Held for the payee by payments not yet approved' }),
  },
  { additionalProperties: false },
);

/** A payer's lock as the operator set it (unlock, block). */
export const PayerLockChangeJson = Type.Object(
  { object: objectOf('payer'), id: Type.String(), locked: Type.Boolean() },
  { additionalProperties: false },
);

/** A payer's lock state as its terminal reads it. */
export const PayerLockJson = Type.Object(
  {
    object: objectOf('payer_lock'),
    locked: Type.Boolean(),
    lockedUntil: nullable(Timestamp),
    blocked: Type.Boolean({ description: 'Blocked by the operator until the operator unlocks' }),
    consecutiveFailures: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
