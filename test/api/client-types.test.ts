// Proves that the shipped merchant client's types (packages/client/src/types.ts) agree with the OpenAPI document: types are generated from the document by the pinned openapi-typescript, and a file of type-level assertions over both is compiled by tsc, so that the two cannot drift apart unnoticed.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

const run = promisify(execFile);
const root = process.cwd();
const openapiTypescriptCli = join(root, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');
const tscCli = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/**
 * The assertions. `Same` holds when both types have the same keys and each is assignable to the other; the
 * `@ts-expect-error` lines prove that a drift (a page size as text, a missing field) would be caught.
 */
function assertions(clientTypes: string, clientHttp: string): string {
  return `import type { paths } from './openapi.js';
import type { Balance, List, ListParams, Merchant, PaymentRequest, PaymentRequestCreateParams, Refund, RefundCreateParams, WebhookDelivery, WebhookEvent } from '${clientTypes}';
import type { apiVersion } from '${clientHttp}';

type Same<A, B> = [keyof A] extends [keyof B]
  ? [keyof B] extends [keyof A]
    ? [A] extends [B]
      ? [B] extends [A]
        ? true
        : false
      : false
    : false
  : false;
type Body<P extends keyof paths> = paths[P] extends { post: { requestBody?: { content: { 'application/json': infer B } } } } ? B : never;
type Query<P extends keyof paths> = paths[P] extends { get: { parameters: { query?: infer Q } } } ? NonNullable<Q> : never;
type Created<P extends keyof paths> = paths[P] extends { post: { responses: { 201: { content: { 'application/json': infer R } } } } } ? R : never;

export const paymentRequestCreate: Same<PaymentRequestCreateParams, Body<'/v1/payment-requests'>> = true;
export const refundCreate: Same<RefundCreateParams, Body<'/v1/refunds'>> = true;
export const pageSize: Same<ListParams['limit'], Query<'/v1/payment-requests'>['limit']> = true;
export const pageSizeOfRefunds: Same<ListParams['limit'], Query<'/v1/refunds'>['limit']> = true;
export const pageSizeOfEvents: Same<ListParams['limit'], Query<'/v1/events'>['limit']> = true;
export const pageSizeOfDeliveries: Same<ListParams['limit'], Query<'/v1/webhook-deliveries'>['limit']> = true;
type Answer<P extends keyof paths> = paths[P] extends { get: { responses: { 200: { content: { 'application/json': infer R } } } } } ? R : never;
type Writable<T> = { -readonly [K in keyof T]: T[K] };
type DeepWritable<T> = T extends readonly (infer U)[] ? DeepWritable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepWritable<T[K]> } : T;
type Header<P extends keyof paths> = paths[P] extends { get: { parameters: { header?: infer H } } } ? NonNullable<H> : never;
export const paymentRequestCreated: Same<Writable<PaymentRequest>, Created<'/v1/payment-requests'>> = true;
export const paymentRequestRead: Same<Writable<PaymentRequest>, Answer<'/v1/payment-requests/{id}'>> = true;
export const refundCreated: Same<Writable<Refund>, Created<'/v1/refunds'>> = true;
export const refundRead: Same<Writable<Refund>, Answer<'/v1/refunds/{id}'>> = true;
export const refundList: Answer<'/v1/refunds'> extends Writable<List<Refund>> ? true : false = true;
export const paymentRequestList: Answer<'/v1/payment-requests'> extends Writable<List<PaymentRequest>> ? true : false = true;
export const balance: Same<Writable<Balance>, Answer<'/v1/balance'>> = true;
export const merchant: Same<Writable<Merchant>, Answer<'/v1/merchant'>> = true;
export const event: Same<DeepWritable<WebhookEvent>, DeepWritable<Answer<'/v1/events/{id}'>>> = true;
export const delivery: Same<DeepWritable<WebhookDelivery>, DeepWritable<Answer<'/v1/webhook-deliveries/{id}'>>> = true;
export const version: typeof apiVersion extends NonNullable<Header<'/v1/balance'>['countersign-version']> ? true : false = true;

// @ts-expect-error a page size given as text is not what the document declares
export const textPageSize: Same<string | undefined, Query<'/v1/payment-requests'>['limit']> = true;
// @ts-expect-error an event whose time is Unix seconds is not what the document declares
export const unixEvent: Same<Omit<DeepWritable<WebhookEvent>, 'createdAt'> & { createdAt: number }, DeepWritable<Answer<'/v1/events/{id}'>>> = true;
// @ts-expect-error a create without its reference is not what the document declares
export const partialCreate: Same<Omit<PaymentRequestCreateParams, 'reference'>, Body<'/v1/payment-requests'>> = true;
`;
}

describe('the merchant client types against the OpenAPI document', () => {
  let platform: TestPlatform;
  let directory: string;

  beforeAll(async () => {
    platform = await startTestPlatform('pglite');
    directory = await mkdtemp(join(tmpdir(), 'countersign-client-types-'));
  });
  afterAll(async () => {
    await platform.dispose();
    await rm(directory, { recursive: true, force: true });
  });

  it('compiles the assertions over the generated types and the client types', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const documentPath = join(directory, 'openapi.json');
    await writeFile(documentPath, response.body);
    await run(process.execPath, [openapiTypescriptCli, documentPath, '-o', join(directory, 'openapi.ts')], {
      timeout: 120_000,
    });
    await writeFile(join(directory, 'package.json'), '{"type":"module"}\n');
    const checkPath = join(directory, 'check.ts');
    await writeFile(
      checkPath,
      assertions(
        join(root, 'packages', 'client', 'src', 'types.js'),
        join(root, 'packages', 'client', 'src', 'http.js'),
      ),
    );
    const compiled = await run(
      process.execPath,
      [
        tscCli,
        '--noEmit',
        '--strict',
        '--skipLibCheck',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        checkPath,
      ],
      { timeout: 120_000 },
    ).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    expect(compiled).toBe('');
  }, 180_000);
});
