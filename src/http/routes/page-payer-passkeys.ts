/**
 * The passkey ceremonies of the payer's pages: the options of a registration or of a payment's approval
 * (JSON, asked for by the page script with the form's CSRF token), and the registration's answer. The
 * approval's answer goes to the payment's approve form like any second code (`page-payer-payments.ts`).
 */

import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';
import { formField, redirectSeeOther } from '../../web/page-context.js';
import { payerPaths } from '../../web/payer/payer-frame.js';
import { pageJsonResponses } from '../contract.js';
import type { FastifyTypebox } from '../dependencies.js';
import type { PayerPageKit } from './page-payer-kit.js';
import { pageSchema } from './page-schemas.js';

/**
 * Parses a ceremony answer the page script put in a form field; undefined when it is not a JSON object.
 * An authenticator's answer is longer than the fields people type (`limits.formFieldLengthMax`), so it has its
 * own bound, inside the page body's (`limits.pageFormBytesMax`).
 */
export function ceremonyResponseField(body: unknown, name: string): Record<string, unknown> | undefined {
  if (body === null || typeof body !== 'object' || !Object.hasOwn(body, name)) return undefined;
  const text: unknown = (body as Record<string, unknown>)[name];
  if (typeof text !== 'string' || text.length > limits.passkeyResponseBytesMax) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Registers the passkey routes in the payer's context. */
export function payerPasskeyPages(app: FastifyTypebox, kit: PayerPageKit): void {
  const { services } = kit;

  app.post(
    payerPaths.passkeyRegistrationOptions,
    {
      schema: {
        ...pageSchema({ tag: 'payer pages', summary: 'Options to create a passkey (JSON)', form: [] }),
        response: pageJsonResponses,
      },
    },
    async (request, reply) => {
      const session = await kit.session(request);
      reply.header('cache-control', 'no-store');
      return services.passkeys.registrationOptions(session.payerId);
    },
  );

  app.post(
    payerPaths.passkeys,
    {
      schema: pageSchema({
        tag: 'payer pages',
        summary: 'Register the passkey the browser created',
        form: ['challengeId', 'response', 'label'],
      }),
    },
    async (request, reply) => {
      const session = await kit.session(request);
      const response = ceremonyResponseField(request.body, 'response');
      const challengeId = formField(request.body, 'challengeId') ?? '';
      const label = formField(request.body, 'label')?.trim();
      if (response === undefined) throw new CountersignError('passkey_registration_failed');
      if (label !== undefined && label.length > limits.terminalLabelLengthMax)
        throw new CountersignError('invalid_request', { param: 'label' });
      await services.passkeys.register(session.payerId, {
        challengeId,
        response: response as unknown as RegistrationResponseJSON,
        ...(label === undefined || label === '' ? {} : { label }),
      });
      return redirectSeeOther(reply, `${payerPaths.terminals}?notice=passkey_added`);
    },
  );

  app.post(
    '/payments/:id/passkey-options',
    {
      schema: {
        ...pageSchema({
          tag: 'payer pages',
          summary: 'Options to approve a payment with a passkey: the challenge binds the payment (JSON)',
          params: ['id'],
          form: [],
        }),
        response: pageJsonResponses,
      },
    },
    async (request, reply) => {
      const session = await kit.session(request);
      reply.header('cache-control', 'no-store');
      const id = (request.params as { id: string }).id;
      return services.passkeys.approvalOptions(session.payerId, id);
    },
  );
}
