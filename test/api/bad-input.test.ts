// Proves on both engines that every rejected input to the routes of the method gets a clear 4xx with a catalogued code (and the field at fault) and changes nothing in the database but the traces of an authentication, and that no input at all produces a 500.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog, isErrorCode } from '../../src/domain/errors.js';
import { call, createFundedPayer, createPayee, type TestPayer } from '../support/api.js';
import { testEngines } from '../support/engines.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';
import { changedTables, snapshotTables } from '../support/snapshot.js';

/** What the cases need from the platform they run against. */
interface Fixture {
  readonly operatorToken: string;
  readonly alice: TestPayer;
  readonly bob: TestPayer;
  /** An open payment of alice's. */
  readonly openPaymentId: string;
  /** A canceled payment of alice's. */
  readonly canceledPaymentId: string;
  /** An open payment of bob's. */
  readonly bobPaymentId: string;
  /** A session of alice's. */
  readonly aliceSession: string;
}

/**
 * What a rejected request may still leave behind: nothing, a failed authentication (its counter and
 * audit entries), a failed approval (also the payment's count), a successful authentication before the
 * refusal (its audit entry, and a reset counter), or the use of a session (its idle window).
 */
type Trace = 'none' | 'failed_login' | 'failed_approval' | 'login' | 'session_use';

interface Rejection {
  readonly name: string;
  readonly request: (f: Fixture) => InjectOptions;
  readonly status: number;
  readonly code: string;
  readonly param?: string;
  readonly trace?: Trace;
}

type Body = Record<string, unknown>;

/** `base` with `changes` applied; a change to undefined removes the field. */
function edited(base: Body, changes: Body): Body {
  const result: Body = { ...base };
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) delete result[field];
    else result[field] = value;
  }
  return result;
}

const operator = (f: Fixture) => ({ authorization: `Bearer ${f.operatorToken}` });

function jsonRequest(
  method: 'GET' | 'POST',
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): InjectOptions {
  return {
    method,
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

const newPayer: Body = { id: 'new-payer', password: 'correct horse battery', verificationCode: '4321' };
const newPayee: Body = { id: 'new-payee', name: 'New Shop' };
const deposit: Body = { payerId: 'alice', amount: 100, currency: 'EUR' };
const payment = (payer: TestPayer): Body => ({
  payerId: payer.id,
  password: payer.password,
  payeeId: 'shop',
  amount: 100,
  currency: 'EUR',
  deliverTo: 'first_terminal',
});

const oversized = 'x'.repeat(20 * 1024);

/** Amounts the API refuses, each with why. */
const badAmounts: readonly [string, unknown][] = [
  ['zero', 0],
  ['negative', -1],
  ['fractional', 1.5],
  ['2^53, above the largest exact JSON integer', 2 ** 53],
  ['far too large', 1e300],
  ['a string', '100'],
  ['null', null],
  ['a boolean', true],
];

/** Currencies refused by their form. */
const malformedCurrencies: readonly unknown[] = ['eur', 'EURO', 'EU', '', 978, null];

/** Cases every route with a JSON body shares. `nullParam`: where a JSON null counts as no body at all. */
function bodyCases(
  route: string,
  url: string,
  headers: (f: Fixture) => Record<string, string>,
  nullParam?: string,
): Rejection[] {
  return [
    {
      name: `${route}: malformed JSON`,
      request: (f) => jsonRequest('POST', url, '{"id": "x",', headers(f)),
      status: 400,
      code: 'invalid_request',
    },
    {
      name: `${route}: a JSON array instead of an object`,
      request: (f) => jsonRequest('POST', url, '[]', headers(f)),
      status: 400,
      code: 'invalid_request',
    },
    {
      name: `${route}: JSON null`,
      request: (f) => jsonRequest('POST', url, 'null', headers(f)),
      status: 400,
      code: 'invalid_request',
      ...(nullParam === undefined ? {} : { param: nullParam }),
    },
    {
      name: `${route}: an empty body declared as JSON`,
      request: (f) => jsonRequest('POST', url, '', headers(f)),
      status: 400,
      code: 'invalid_request',
    },
    {
      name: `${route}: prototype poisoning`,
      request: (f) => jsonRequest('POST', url, '{"__proto__": {"admin": true}}', headers(f)),
      status: 400,
      code: 'invalid_request',
    },
    {
      name: `${route}: text/plain`,
      request: (f) => ({
        method: 'POST',
        url,
        headers: { ...headers(f), 'content-type': 'text/plain' },
        payload: 'hello',
      }),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: `${route}: a form`,
      request: (f) => ({
        method: 'POST',
        url,
        headers: { ...headers(f), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'amount=1',
      }),
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: `${route}: a body over 16 KiB`,
      request: (f) => jsonRequest('POST', url, { padding: oversized }, headers(f)),
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: `${route}: an Idempotency-Key over the length limit`,
      request: (f) => jsonRequest('POST', url, {}, { ...headers(f), 'idempotency-key': 'k'.repeat(1000) }),
      status: 400,
      code: 'invalid_request',
      param: 'Idempotency-Key',
    },
  ];
}

/** Cases every operator route shares: no token, a wrong one, another scheme. */
function operatorCases(route: string, method: 'GET' | 'POST', url: string, body?: Body): Rejection[] {
  const request = (headers: Record<string, string>): InjectOptions =>
    body === undefined ? { method, url, headers } : jsonRequest(method, url, body, headers);
  return [
    {
      name: `${route}: no operator token`,
      request: () => request({}),
      status: 401,
      code: 'authentication_required',
    },
    {
      name: `${route}: a wrong operator token`,
      request: () => request({ authorization: 'Bearer cs_op_this-is-not-the-operator-token' }),
      status: 401,
      code: 'authentication_required',
    },
    {
      name: `${route}: the token under another scheme`,
      request: (f) => request({ authorization: `Basic ${f.operatorToken}` }),
      status: 401,
      code: 'authentication_required',
    },
    {
      name: `${route}: a payer session instead of the operator token`,
      request: (f) => request({ authorization: `Bearer ${f.aliceSession}` }),
      status: 401,
      code: 'authentication_required',
    },
  ];
}

function fieldCases(
  route: string,
  url: string,
  base: (f: Fixture) => Body,
  headers: (f: Fixture) => Record<string, string>,
  variations: readonly [string, Body, string, string?][],
): Rejection[] {
  return variations.map(([what, changes, param, code]) => ({
    name: `${route}: ${what}`,
    request: (f: Fixture) => jsonRequest('POST', url, edited(base(f), changes), headers(f)),
    status: code === undefined ? 400 : errorCatalog[code as keyof typeof errorCatalog].status,
    code: code ?? 'invalid_request',
    param,
  }));
}

const noHeaders = () => ({});

const payerRejections: Rejection[] = [
  ...operatorCases('POST /v1/payers', 'POST', '/v1/payers', newPayer),
  ...bodyCases('POST /v1/payers', '/v1/payers', operator),
  ...fieldCases('POST /v1/payers', '/v1/payers', () => newPayer, operator, [
    ['no id', { id: undefined }, 'id'],
    ['an id with a space', { id: 'new payer' }, 'id'],
    ['an id of 2 characters', { id: 'ab' }, 'id'],
    ['an id of 65 characters', { id: 'a'.repeat(65) }, 'id'],
    ['an id that is a number', { id: 12345 }, 'id'],
    ['no password', { password: undefined }, 'password'],
    ['a password of 7 characters', { password: 'short12' }, 'password'],
    ['a password of 129 characters', { password: 'p'.repeat(129) }, 'password'],
    ['no verification code', { verificationCode: undefined }, 'verificationCode'],
    ['a verification code with letters', { verificationCode: '12ab' }, 'verificationCode'],
    ['a verification code of 3 digits', { verificationCode: '123' }, 'verificationCode'],
    ['a verification code of 13 digits', { verificationCode: '1234567890123' }, 'verificationCode'],
    ['a verification code that is a number', { verificationCode: 4321 }, 'verificationCode'],
    ['a suite that is not OCRA', { suite: 'HOTP-SHA1-6' }, 'suite'],
    ['a suite whose question cannot hold a first code', { suite: 'OCRA-1:HOTP-SHA1-6:QN04' }, 'suite'],
    ['a suite with a counter', { suite: 'OCRA-1:HOTP-SHA1-6:C-QN08' }, 'suite'],
    ['a first terminal of an unknown kind', { firstTerminal: 'sms' }, 'firstTerminal'],
    ['a suite for no first terminal', { firstTerminal: 'none', suite: 'OCRA-1:HOTP-SHA1-6:QN08' }, 'suite'],
    ['an extra field', { isAdmin: true }, 'isAdmin'],
    ['an id already taken', { id: 'alice' }, 'id', 'payer_exists'],
  ]),
];

const payeeRejections: Rejection[] = [
  ...operatorCases('POST /v1/payees', 'POST', '/v1/payees', newPayee),
  ...bodyCases('POST /v1/payees', '/v1/payees', operator),
  ...fieldCases('POST /v1/payees', '/v1/payees', () => newPayee, operator, [
    ['no id', { id: undefined }, 'id'],
    ['an id with a slash', { id: 'shop/1' }, 'id'],
    ['no name', { name: undefined }, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a name of spaces only', { name: '   ' }, 'name'],
    ['a name of 201 characters', { name: 'n'.repeat(201) }, 'name'],
    ['a name that is an object', { name: { first: 'New' } }, 'name'],
    ['a name with a NUL byte', { name: 'New\u0000Shop' }, 'name'],
    ['a name with a control character', { name: 'New\u001bShop' }, 'name'],
    ['an extra field', { kind: 'merchant' }, 'kind'],
    ['an id already taken', { id: 'shop' }, 'id', 'payee_exists'],
  ]),
];

const depositRejections: Rejection[] = [
  ...operatorCases('POST /v1/deposits', 'POST', '/v1/deposits', deposit),
  ...bodyCases('POST /v1/deposits', '/v1/deposits', operator),
  ...fieldCases('POST /v1/deposits', '/v1/deposits', () => deposit, operator, [
    ...badAmounts.map(([what, amount]): [string, Body, string] => [
      `an amount ${what}`,
      { amount },
      'amount',
    ]),
    ['no amount', { amount: undefined }, 'amount'],
    ...malformedCurrencies.map((currency): [string, Body, string] => [
      `the currency ${JSON.stringify(currency)}`,
      { currency },
      'currency',
    ]),
    ['a currency that is not ISO 4217', { currency: 'ZZZ' }, 'currency'],
    ['no currency', { currency: undefined }, 'currency'],
    ['no payer', { payerId: undefined }, 'payerId'],
    ['a malformed payer id', { payerId: 'a b' }, 'payerId'],
    ['a payer that does not exist', { payerId: 'nobody-here' }, 'payerId', 'payer_not_found'],
    ['an extra field', { note: 'gift' }, 'note'],
  ]),
];

const balanceRejections: Rejection[] = [
  ...operatorCases('GET payer balance', 'GET', '/v1/payers/alice/balance?currency=EUR'),
  ...operatorCases('GET payee balance', 'GET', '/v1/payees/shop/balance?currency=EUR'),
  ...(['payers', 'payees'] as const).flatMap((kind): Rejection[] => {
    const known = kind === 'payers' ? 'alice' : 'shop';
    const get = (path: string) => (f: Fixture) => ({
      method: 'GET' as const,
      url: `/v1/${kind}/${path}`,
      headers: operator(f),
    });
    return [
      {
        name: `GET ${kind} balance: no currency`,
        request: get(`${known}/balance`),
        status: 400,
        code: 'invalid_request',
        param: 'currency',
      },
      {
        name: `GET ${kind} balance: a lower-case currency`,
        request: get(`${known}/balance?currency=eur`),
        status: 400,
        code: 'invalid_request',
        param: 'currency',
      },
      {
        name: `GET ${kind} balance: a currency that is not ISO 4217`,
        request: get(`${known}/balance?currency=ZZZ`),
        status: 400,
        code: 'invalid_request',
        param: 'currency',
      },
      {
        name: `GET ${kind} balance: an extra query parameter`,
        request: get(`${known}/balance?currency=EUR&debug=1`),
        status: 400,
        code: 'invalid_request',
        param: 'debug',
      },
      {
        name: `GET ${kind} balance: an id of 65 characters`,
        request: get(`${'a'.repeat(65)}/balance?currency=EUR`),
        status: 400,
        code: 'invalid_request',
        param: 'id',
      },
      {
        name: `GET ${kind} balance: an id with a NUL byte`,
        request: get(`${known}%00/balance?currency=EUR`),
        status: 400,
        code: 'invalid_request',
        param: 'id',
      },
      {
        name: `GET ${kind} balance: an id that does not exist`,
        request: get('nobody-here/balance?currency=EUR'),
        status: 404,
        code: kind === 'payers' ? 'payer_not_found' : 'payee_not_found',
      },
    ];
  }),
];

const unlockRejections: Rejection[] = [
  ...operatorCases('POST unlock', 'POST', '/v1/payers/alice/unlock'),
  {
    name: 'POST unlock: a payer that does not exist',
    request: (f) => ({ method: 'POST', url: '/v1/payers/nobody-here/unlock', headers: operator(f) }),
    status: 404,
    code: 'payer_not_found',
  },
];

const sessionRejections: Rejection[] = [
  ...bodyCases('POST /v1/sessions', '/v1/sessions', noHeaders),
  ...fieldCases(
    'POST /v1/sessions',
    '/v1/sessions',
    (f) => ({ payerId: f.bob.id, password: f.bob.password }),
    noHeaders,
    [
      ['no payer id', { payerId: undefined }, 'payerId'],
      ['no password', { password: undefined }, 'password'],
      ['a payer id that is a number', { payerId: 42 }, 'payerId'],
      ['an empty payer id', { payerId: '' }, 'payerId'],
      ['a payer id of 65 characters', { payerId: 'a'.repeat(65) }, 'payerId'],
      ['a password of 129 characters', { password: 'p'.repeat(129) }, 'password'],
      ['an empty password', { password: '' }, 'password'],
      ['an extra field', { remember: true }, 'remember'],
      ['a payer id with a NUL byte', { payerId: 'bob\u0000' }, 'payerId'],
      ['a payer id with a control character', { payerId: 'bob\u0007' }, 'payerId'],
      ['a password with a NUL byte', { password: 'correct horse\u0000' }, 'password'],
    ],
  ),
  {
    name: 'POST /v1/sessions: a wrong password',
    request: (f) => jsonRequest('POST', '/v1/sessions', { payerId: f.bob.id, password: 'wrong password' }),
    status: 401,
    code: 'authentication_failed',
    trace: 'failed_login',
  },
  {
    name: 'POST /v1/sessions: a payer id that does not exist',
    request: () => jsonRequest('POST', '/v1/sessions', { payerId: 'nobody-here', password: 'any password' }),
    status: 401,
    code: 'authentication_failed',
    trace: 'failed_login',
  },
];

const paymentRejections: Rejection[] = [
  ...bodyCases('POST /v1/payments', '/v1/payments', noHeaders),
  ...fieldCases('POST /v1/payments', '/v1/payments', (f) => payment(f.alice), noHeaders, [
    ...badAmounts.map(([what, amount]): [string, Body, string] => [
      `an amount ${what}`,
      { amount },
      'amount',
    ]),
    ['no amount', { amount: undefined }, 'amount'],
    ...malformedCurrencies.map((currency): [string, Body, string] => [
      `the currency ${JSON.stringify(currency)}`,
      { currency },
      'currency',
    ]),
    ['no currency', { currency: undefined }, 'currency'],
    ['no payee', { payeeId: undefined }, 'payeeId'],
    ['a malformed payee id', { payeeId: 'shop!' }, 'payeeId'],
    ['no delivery', { deliverTo: undefined }, 'deliverTo'],
    ['an unknown delivery', { deliverTo: 'sms' }, 'deliverTo'],
    ['an extra field', { description: 'lunch' }, 'description'],
    ['no password', { password: undefined }, 'password'],
    ['no payer id', { payerId: undefined }, 'payerId'],
    ['neither payer id nor password', { payerId: undefined, password: undefined }, 'payerId'],
    ['a payer id with a NUL byte', { payerId: 'alice\u0000' }, 'payerId'],
    ['a payer id with a control character', { payerId: 'alice\n' }, 'payerId'],
    ['a password with a NUL byte', { password: 'correct horse\u0000' }, 'password'],
  ]),
  {
    name: 'POST /v1/payments: a NUL byte in the name of a field',
    request: (f) => jsonRequest('POST', '/v1/payments', { ...payment(f.alice), 'memo\u0000': 'x' }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'POST /v1/payments: a NUL byte in a nested value',
    request: (f) =>
      jsonRequest('POST', '/v1/payments', { ...payment(f.alice), extra: [{ note: 'a\u0000' }] }),
    status: 400,
    code: 'invalid_request',
    param: 'extra[0].note',
  },
  {
    name: 'POST /v1/payments: a session and a password at once',
    request: (f) =>
      jsonRequest('POST', '/v1/payments', payment(f.alice), { authorization: `Bearer ${f.aliceSession}` }),
    status: 400,
    code: 'invalid_request',
    param: 'password',
  },
  {
    name: 'POST /v1/payments: a bearer token that is no session',
    request: () =>
      jsonRequest(
        'POST',
        '/v1/payments',
        edited(payment({} as TestPayer), { payerId: undefined, password: undefined }),
        {
          authorization: 'Bearer cs_sess_not-a-session-token-at-all',
        },
      ),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'POST /v1/payments: a wrong password',
    request: (f) =>
      jsonRequest('POST', '/v1/payments', edited(payment(f.bob), { password: 'wrong password' })),
    status: 401,
    code: 'authentication_failed',
    trace: 'failed_login',
  },
  {
    name: 'POST /v1/payments: a wrong password and a payee that does not exist',
    request: (f) =>
      jsonRequest(
        'POST',
        '/v1/payments',
        edited(payment(f.bob), { password: 'wrong password', payeeId: 'nowhere' }),
      ),
    status: 401,
    code: 'authentication_failed',
    trace: 'failed_login',
  },
  {
    name: 'POST /v1/payments: a payee that does not exist',
    request: (f) => jsonRequest('POST', '/v1/payments', edited(payment(f.alice), { payeeId: 'nowhere' })),
    status: 404,
    code: 'payee_not_found',
    param: 'payeeId',
    trace: 'login',
  },
  {
    name: 'POST /v1/payments: a currency that is not ISO 4217',
    request: (f) => jsonRequest('POST', '/v1/payments', edited(payment(f.alice), { currency: 'ZZZ' })),
    status: 400,
    code: 'invalid_request',
    param: 'currency',
    trace: 'login',
  },
  {
    name: 'POST /v1/payments: a currency the payer holds nothing in',
    request: (f) => jsonRequest('POST', '/v1/payments', edited(payment(f.alice), { currency: 'USD' })),
    status: 402,
    code: 'insufficient_funds',
    param: 'amount',
    trace: 'login',
  },
  {
    name: 'POST /v1/payments: more than the balance',
    request: (f) => jsonRequest('POST', '/v1/payments', edited(payment(f.alice), { amount: 2 ** 53 - 1 })),
    status: 402,
    code: 'insufficient_funds',
    param: 'amount',
    trace: 'login',
  },
];

const approveUrl = (f: Fixture) => `/v1/payments/${f.openPaymentId}/approve`;
const approveRejections: Rejection[] = [
  ...bodyCases('POST approve', '/v1/payments/00000000-0000-4000-8000-000000000000/approve', noHeaders),
  ...(
    [
      ['no codes', {}, 'secondCode'],
      ['a second code with letters', { secondCode: '1234abcd' }, 'secondCode'],
      ['a second code of 5 digits', { secondCode: '12345' }, 'secondCode'],
      ['a second code of 11 digits', { secondCode: '12345678901' }, 'secondCode'],
      ['a second code that is a number', { secondCode: 12345678 }, 'secondCode'],
      ['a first code of 7 digits', { firstCode: '1234567', verificationCode: '4321' }, 'firstCode'],
      [
        'a verification code with letters',
        { firstCode: '12345678', verificationCode: 'abcd' },
        'verificationCode',
      ],
      ['a first code without the verification code', { firstCode: '12345678' }, 'verificationCode'],
      ['a verification code without the first code', { verificationCode: '4321' }, 'firstCode'],
      ['a second code and a first code', { secondCode: '12345678', firstCode: '12345678' }, 'firstCode'],
      [
        'a second code and a verification code',
        { secondCode: '12345678', verificationCode: '4321' },
        'verificationCode',
      ],
      ['an extra field', { secondCode: '12345678', payerId: 'alice' }, 'payerId'],
    ] as const
  ).map(
    ([what, body, param]): Rejection => ({
      name: `POST approve: ${what}`,
      request: (f) => jsonRequest('POST', approveUrl(f), body),
      status: 400,
      code: 'invalid_request',
      param,
    }),
  ),
  {
    name: 'POST approve: no body at all',
    request: (f) => ({ method: 'POST', url: approveUrl(f) }),
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'POST approve: a payment id that is no UUID',
    request: () => jsonRequest('POST', '/v1/payments/not-a-uuid/approve', { secondCode: '12345678' }),
    status: 400,
    code: 'invalid_request',
    param: 'id',
  },
  {
    name: 'POST approve: a payment id in upper case',
    request: (f) =>
      jsonRequest(
        'POST',
        approveUrl(f).toUpperCase().replace('/V1/PAYMENTS', '/v1/payments').replace('/APPROVE', '/approve'),
        { secondCode: '12345678' },
      ),
    status: 400,
    code: 'invalid_request',
    param: 'id',
  },
  {
    name: 'POST approve: a payment that does not exist',
    request: () => jsonRequest('POST', `/v1/payments/${randomUUID()}/approve`, { secondCode: '12345678' }),
    status: 404,
    code: 'payment_not_found',
  },
  {
    name: 'POST approve: a canceled payment',
    request: (f) =>
      jsonRequest('POST', `/v1/payments/${f.canceledPaymentId}/approve`, { secondCode: '12345678' }),
    status: 409,
    code: 'payment_not_approvable',
  },
  {
    name: 'POST approve: a wrong second code',
    request: (f) => jsonRequest('POST', approveUrl(f), { secondCode: '00000000' }),
    status: 401,
    code: 'approval_failed',
    trace: 'failed_approval',
  },
];

const cancelUrl = (f: Fixture) => `/v1/payments/${f.openPaymentId}/cancel`;
const aliceCredentials = (f: Fixture) => ({ payerId: f.alice.id, password: f.alice.password });
const cancelRejections: Rejection[] = [
  ...bodyCases(
    'POST cancel',
    '/v1/payments/00000000-0000-4000-8000-000000000000/cancel',
    noHeaders,
    'payerId',
  ),
  {
    name: 'POST cancel: no credentials',
    request: (f) => ({ method: 'POST', url: cancelUrl(f) }),
    status: 400,
    code: 'invalid_request',
    param: 'payerId',
  },
  {
    name: 'POST cancel: a payer id without password',
    request: (f) => jsonRequest('POST', cancelUrl(f), { payerId: f.alice.id }),
    status: 400,
    code: 'invalid_request',
    param: 'password',
  },
  {
    name: 'POST cancel: an extra field',
    request: (f) => jsonRequest('POST', cancelUrl(f), { ...aliceCredentials(f), reason: 'changed my mind' }),
    status: 400,
    code: 'invalid_request',
    param: 'reason',
  },
  {
    name: 'POST cancel: a payment id that is no UUID',
    request: (f) => jsonRequest('POST', '/v1/payments/123/cancel', aliceCredentials(f)),
    status: 400,
    code: 'invalid_request',
    param: 'id',
  },
  {
    name: 'POST cancel: a wrong password',
    request: (f) => jsonRequest('POST', cancelUrl(f), { payerId: f.bob.id, password: 'wrong password' }),
    status: 401,
    code: 'authentication_failed',
    trace: 'failed_login',
  },
  {
    name: "POST cancel: another payer's payment",
    request: (f) => jsonRequest('POST', `/v1/payments/${f.bobPaymentId}/cancel`, aliceCredentials(f)),
    status: 404,
    code: 'payment_not_found',
    trace: 'login',
  },
  {
    name: 'POST cancel: a payment that does not exist',
    request: (f) => jsonRequest('POST', `/v1/payments/${randomUUID()}/cancel`, aliceCredentials(f)),
    status: 404,
    code: 'payment_not_found',
    trace: 'login',
  },
  {
    name: 'POST cancel: a payment already canceled',
    request: (f) => jsonRequest('POST', `/v1/payments/${f.canceledPaymentId}/cancel`, aliceCredentials(f)),
    status: 409,
    code: 'payment_not_cancelable',
    trace: 'login',
  },
];

const readRejections: Rejection[] = [
  {
    name: 'GET payment: no credentials',
    request: (f) => ({ method: 'GET', url: `/v1/payments/${f.openPaymentId}` }),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'GET payment: a token that is neither the operator token nor a session',
    request: (f) => ({
      method: 'GET',
      url: `/v1/payments/${f.openPaymentId}`,
      headers: { authorization: 'Bearer cs_sess_not-a-session-token-at-all' },
    }),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'GET payment: a payment id that is no UUID',
    request: (f) => ({ method: 'GET', url: '/v1/payments/not-a-uuid', headers: operator(f) }),
    status: 400,
    code: 'invalid_request',
    param: 'id',
  },
  {
    name: 'GET payment: a payment that does not exist',
    request: (f) => ({ method: 'GET', url: `/v1/payments/${randomUUID()}`, headers: operator(f) }),
    status: 404,
    code: 'payment_not_found',
  },
  {
    name: "GET payment: another payer's payment with a session",
    request: (f) => ({
      method: 'GET',
      url: `/v1/payments/${f.bobPaymentId}`,
      headers: { authorization: `Bearer ${f.aliceSession}` },
    }),
    status: 404,
    code: 'payment_not_found',
    trace: 'session_use',
  },
  ...(
    [
      ['a page size of 0', '?limit=0', 'limit'],
      ['a page size of 101', '?limit=101', 'limit'],
      ['a page size that is no number', '?limit=ten', 'limit'],
      ['a negative page size', '?limit=-1', 'limit'],
      ['a cursor that is no UUID', '?starting_after=abc', 'starting_after'],
      [
        'a cursor naming no payment',
        `?starting_after=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
        'starting_after',
      ],
      ['an extra query parameter', '?offset=10', 'offset'],
    ] as const
  ).map(
    ([what, query, param]): Rejection => ({
      name: `GET /v1/payments: ${what}`,
      request: (f) => ({
        method: 'GET',
        url: `/v1/payments${query}`,
        headers: { authorization: `Bearer ${f.aliceSession}` },
      }),
      status: 400,
      code: 'invalid_request',
      param,
      trace: 'session_use',
    }),
  ),
  {
    name: "GET /v1/payments: another payer's payment as the cursor",
    request: (f) => ({
      method: 'GET',
      url: `/v1/payments?starting_after=${f.bobPaymentId}`,
      headers: { authorization: `Bearer ${f.aliceSession}` },
    }),
    status: 400,
    code: 'invalid_request',
    param: 'starting_after',
    trace: 'session_use',
  },
  {
    name: 'GET /v1/payments: no session',
    request: () => ({ method: 'GET', url: '/v1/payments' }),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'GET /v1/payments: the operator token',
    request: (f) => ({ method: 'GET', url: '/v1/payments', headers: operator(f) }),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'POST sign out: no session',
    request: () => ({ method: 'POST', url: '/v1/sessions/current/revoke' }),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'POST sign out: a token that is no session',
    request: () => ({
      method: 'POST',
      url: '/v1/sessions/current/revoke',
      headers: { authorization: 'Bearer cs_sess_not-a-session-token-at-all' },
    }),
    status: 401,
    code: 'authentication_required',
  },
  {
    name: 'a path no route answers',
    request: () => ({ method: 'GET', url: '/v1/nothing-here' }),
    status: 404,
    code: 'route_not_found',
  },
  {
    name: 'a method the path does not answer',
    request: () => ({ method: 'DELETE', url: '/v1/payments' }),
    status: 404,
    code: 'route_not_found',
  },
];

const rejections: Rejection[] = [
  ...payerRejections,
  ...payeeRejections,
  ...depositRejections,
  ...balanceRejections,
  ...unlockRejections,
  ...sessionRejections,
  ...paymentRejections,
  ...approveRejections,
  ...cancelRejections,
  ...readRejections,
];

/** The tables a trace may touch, and the audit events it appends. */
const traceEffects: Record<
  Trace,
  { tables: readonly string[]; optional: readonly string[]; events: readonly string[] }
> = {
  none: { tables: [], optional: [], events: [] },
  failed_login: {
    tables: ['audit_head', 'audit_log', 'authentication_failures'],
    optional: [],
    events: ['login_failed'],
  },
  failed_approval: {
    tables: ['audit_head', 'audit_log', 'authentication_failures', 'payments'],
    optional: [],
    events: ['approval_failed'],
  },
  // A success resets the payer's count, which changes the counter's row only when it was not zero.
  login: {
    tables: ['audit_head', 'audit_log'],
    optional: ['authentication_failures'],
    events: ['login_succeeded'],
  },
  // The session's idle window moves only when the clock did.
  session_use: { tables: [], optional: ['sessions'], events: [] },
};

describe.each(testEngines())('rejected input on %s', (engine) => {
  let platform: TestPlatform;
  let fixture: Fixture;

  beforeAll(async () => {
    platform = await startTestPlatform(engine);
    const { app, operatorToken } = platform;
    const alice = await createFundedPayer(app, operatorToken, 'alice', 10_000);
    const bob = await createFundedPayer(app, operatorToken, 'bob', 10_000);
    await createPayee(app, operatorToken, 'shop');
    const pay = async (payer: TestPayer) => {
      const created = await call(app, 'POST', '/v1/payments', payment(payer));
      if (created.statusCode !== 201) throw new Error(created.body);
      return created.json().id as string;
    };
    const openPaymentId = await pay(alice);
    const canceledPaymentId = await pay(alice);
    await call(app, 'POST', `/v1/payments/${canceledPaymentId}/cancel`, {
      payerId: alice.id,
      password: alice.password,
    });
    const bobPaymentId = await pay(bob);
    const session = await call(app, 'POST', '/v1/sessions', { payerId: alice.id, password: alice.password });
    fixture = {
      operatorToken,
      alice,
      bob,
      openPaymentId,
      canceledPaymentId,
      bobPaymentId,
      aliceSession: session.json().token,
    };
  });
  afterAll(async () => {
    await platform.dispose();
  });

  async function auditPosition(): Promise<bigint> {
    const [row] = await platform.test.database.query<{ position: bigint }>(
      'SELECT COALESCE(MAX(position), 0)::bigint AS position FROM audit_log',
    );
    return row!.position;
  }

  it.each(rejections.map((rejection) => [rejection.name, rejection] as const))(
    '%s',
    async (_name, rejection) => {
      const database = platform.test.database;
      const before = await snapshotTables(database);
      const position = await auditPosition();
      const response = await platform.app.inject(rejection.request(fixture));

      expect(response.statusCode, response.body).toBe(rejection.status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const error = response.json().error;
      expect(error.code).toBe(rejection.code);
      expect(isErrorCode(error.code)).toBe(true);
      expect(errorCatalog[error.code as keyof typeof errorCatalog].status).toBe(rejection.status);
      expect(error.param).toBe(rejection.param);
      expect(typeof error.message).toBe('string');

      const effect = traceEffects[rejection.trace ?? 'none'];
      const changed = changedTables(before, await snapshotTables(database));
      expect(changed.filter((table) => !effect.optional.includes(table))).toEqual(effect.tables);
      const appended = await database.query<{ event: string; detail: string }>(
        'SELECT event, detail FROM audit_log WHERE position > $1 ORDER BY position',
        [position],
      );
      expect(appended.map((entry) => entry.event)).toEqual(effect.events);
    },
  );

  it('accepts the valid bodies the cases above start from, so that each case fails for its own reason', async () => {
    const { app } = platform;
    const f = fixture;
    const accepted = [
      await platform.app.inject(jsonRequest('POST', '/v1/payers', newPayer, operator(f))),
      await platform.app.inject(jsonRequest('POST', '/v1/payees', newPayee, operator(f))),
      await platform.app.inject(jsonRequest('POST', '/v1/deposits', deposit, operator(f))),
      await platform.app.inject(
        jsonRequest('POST', '/v1/sessions', { payerId: f.bob.id, password: f.bob.password }),
      ),
      await platform.app.inject(jsonRequest('POST', '/v1/payments', payment(f.alice))),
    ];
    expect(accepted.map((response) => response.statusCode)).toEqual([201, 201, 201, 201, 201]);
    const reads = [
      await call(app, 'GET', '/v1/payers/alice/balance?currency=EUR', undefined, { token: f.operatorToken }),
      await call(app, 'GET', '/v1/payees/shop/balance?currency=EUR', undefined, { token: f.operatorToken }),
      await call(app, 'GET', `/v1/payments/${f.openPaymentId}`, undefined, { token: f.aliceSession }),
      await call(app, 'GET', '/v1/payments?limit=100', undefined, { token: f.aliceSession }),
      await call(app, 'POST', '/v1/payers/alice/unlock', undefined, { token: f.operatorToken }),
      // A session needs no body to cancel.
      await call(app, 'POST', cancelUrl(f), undefined, { token: f.aliceSession }),
      await call(app, 'POST', '/v1/sessions/current/revoke', undefined, { token: f.aliceSession }),
    ];
    expect(reads.map((response) => response.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 200]);
  });

  it('answers any JSON body on any route with less than 500', async () => {
    const routes = [
      '/v1/payers',
      '/v1/payees',
      '/v1/deposits',
      '/v1/sessions',
      '/v1/payments',
      `/v1/payments/${fixture.openPaymentId}/approve`,
      `/v1/payments/${fixture.openPaymentId}/cancel`,
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(
          fc.jsonValue(),
          fc.dictionary(
            fc.constantFrom(
              'id',
              'payerId',
              'password',
              'amount',
              'currency',
              'payeeId',
              'deliverTo',
              'secondCode',
              'firstCode',
              'verificationCode',
              'name',
            ),
            fc.jsonValue(),
          ),
        ),
        fc.boolean(),
        async (url, body, asOperator) => {
          const response = await platform.app.inject(
            jsonRequest('POST', url, body, asOperator ? operator(fixture) : {}),
          );
          expect(response.statusCode, response.body).toBeLessThan(500);
        },
      ),
      { numRuns: 150, seed: 20240603 },
    );
  });

  it('answers any raw text on any route with less than 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/v1/payments', '/v1/sessions', `/v1/payments/${fixture.openPaymentId}/approve`),
        fc.string({ maxLength: 200 }),
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/octet-stream',
        ),
        async (url, text, contentType) => {
          const response = await platform.app.inject({
            method: 'POST',
            url,
            headers: { 'content-type': contentType },
            payload: text,
          });
          expect(response.statusCode, response.body).toBeLessThan(500);
        },
      ),
      { numRuns: 100, seed: 20240604 },
    );
  });
});
