// Small helpers for driving the API with inject: JSON posts, operator calls, and a funded payer.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { hexToBytes } from '../../src/domain/hex.js';
import { computeOcra } from '../../src/domain/ocra.js';

/** Sends a JSON request; `token` becomes a bearer Authorization header. */
export function call(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return app.inject({
    method,
    url,
    headers,
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

/** A payer as a test knows it, secrets included. */
export interface TestPayer {
  readonly id: string;
  readonly password: string;
  readonly verificationCode: string;
  readonly suite: string;
  readonly keyHex: string;
}

/** A payer `createFundedPayer` made: with its first terminal, and the URI that enrolls an app with it. */
export interface FundedPayer extends TestPayer {
  readonly terminalId: string;
  readonly enrollmentUri: string;
}

/** Creates a payer through the API and deposits `amount` EUR minor units. */
export async function createFundedPayer(
  app: FastifyInstance,
  operatorToken: string,
  id: string,
  amount = 10_000,
  currency = 'EUR',
): Promise<FundedPayer> {
  const payer = { id, password: 'correct horse battery', verificationCode: '4321' };
  const created = await call(app, 'POST', '/v1/payers', payer, { token: operatorToken });
  if (created.statusCode !== 201) throw new Error(`payer creation failed: ${created.body}`);
  const terminal = created.json().terminal as {
    id: string;
    suite: string;
    keyHex: string;
    enrollmentUri: string;
  };
  const deposit = await call(
    app,
    'POST',
    '/v1/deposits',
    { payerId: id, amount, currency },
    { token: operatorToken },
  );
  if (deposit.statusCode !== 201) throw new Error(`deposit failed: ${deposit.body}`);
  return {
    ...payer,
    suite: terminal.suite,
    keyHex: terminal.keyHex,
    terminalId: terminal.id,
    enrollmentUri: terminal.enrollmentUri,
  };
}

/** Creates a payee through the API. */
export async function createPayee(
  app: FastifyInstance,
  operatorToken: string,
  id: string,
  name = 'Corner Shop',
) {
  const created = await call(app, 'POST', '/v1/payees', { id, name }, { token: operatorToken });
  if (created.statusCode !== 201) throw new Error(`payee creation failed: ${created.body}`);
}

/** The second code a payer's terminal computes for `firstCode` (embodiment 1), with the RFC 6287 module. */
export function secondCodeFor(payer: TestPayer, firstCode: string): Promise<string> {
  return computeOcra({
    suite: payer.suite,
    key: hexToBytes(payer.keyHex),
    question: firstCode,
    pin: payer.verificationCode,
  });
}
