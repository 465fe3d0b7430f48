/**
 * The codes a payment's creation issues. The second codes it precomputes: for each active terminal of the payer, the OCRA
 * response to the payment's first code (question) with the payer's verification code (PIN), kept only as
 * a keyed hash bound to the payment; and the outbox row that pushes the first code to a second terminal.
 * Used by the payment executor for every payment it creates.
 */
import { computeOcra } from '../../domain/ocra.js';
import type { Payment } from '../../domain/payment.js';
import { terminalKeyLabel, verificationCodeLabel } from '../../domain/sealed-labels.js';
import { derivedId } from '../ids.js';
import type { MethodSecrets } from '../keys/secrets.js';
import { nodeOcraPrimitives } from './ocra-primitives.js';
import type { DeliveryInsert } from './payment-store.js';

/** A payer's verification code and active terminals' keys, sealed as stored. */
export interface SealedCodeMaterial {
  readonly verificationCodeSealed: string;
  readonly terminals: readonly { readonly id: string; readonly suite: string; readonly keySealed: string }[];
}

/** The same, opened: held in memory only while a payment's codes are computed. */
export interface CodeMaterial {
  readonly pin: string;
  readonly terminals: readonly { readonly id: string; readonly suite: string; readonly key: Uint8Array }[];
}

/** Opens a payer's sealed verification code and terminal keys, each under the label it was sealed with. */
export function openCodeMaterial(
  secrets: MethodSecrets,
  payerId: string,
  sealed: SealedCodeMaterial,
): CodeMaterial {
  return {
    pin: secrets.box.open(sealed.verificationCodeSealed, verificationCodeLabel(payerId)).toString('utf8'),
    terminals: sealed.terminals.map((terminal) => ({
      id: terminal.id,
      suite: terminal.suite,
      key: new Uint8Array(secrets.box.open(terminal.keySealed, terminalKeyLabel(terminal.id))),
    })),
  };
}

/** The keyed hash of the second code each terminal computes for `firstCode`, bound to the payment. */
export function secondCodeHashes(
  secrets: MethodSecrets,
  paymentId: string,
  firstCode: string,
  material: CodeMaterial,
): Promise<{ terminalId: string; hash: string }[]> {
  return Promise.all(
    material.terminals.map(async (terminal) => {
      const secondCode = await computeOcra(
        { suite: terminal.suite, key: terminal.key, question: firstCode, pin: material.pin },
        nodeOcraPrimitives,
      );
      return { terminalId: terminal.id, hash: secrets.keyedHash('second_code', paymentId, secondCode) };
    }),
  );
}

/**
 * The outbox row that pushes a payment's first code, payee and amount to the payer's second terminal,
 * sealed. It commits with the payment: a crash after the commit still delivers the challenge.
 */
export function firstCodeDelivery(
  secrets: MethodSecrets,
  payment: Payment,
  firstCode: string,
  payeeName: string,
  nowMs: number,
): DeliveryInsert {
  const payload = JSON.stringify({
    paymentId: payment.id,
    firstCode,
    amount: payment.amount.toString(),
    currency: payment.currency,
    payeeId: payment.payeeId,
    payeeName,
    expiresAtMs: payment.expiresAtMs,
  });
  const deliveryId = derivedId(secrets.keyedHash, 'delivery', payment.id, 'second_terminal');
  return {
    id: deliveryId,
    payerId: payment.payerId,
    paymentId: payment.id,
    channel: 'second_terminal',
    payloadSealed: secrets.box.seal(payload, `delivery:${deliveryId}`),
    nowMs,
  };
}
