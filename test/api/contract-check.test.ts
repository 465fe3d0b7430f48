// Proves that the response check every API suite runs under (test/support/contract-check.ts) catches an undeclared status and a body outside its schema, and passes a response that keeps the contract.
import { Type } from '@sinclair/typebox';
import type { FastifySchema } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok } from '../../src/http/contract.js';
import { startTestPlatform, type TestPlatform } from '../support/method.js';

describe('the response check of the test platform', () => {
  let platform: TestPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform('pglite', {
      extraRoutes: () => [
        (app) => {
          // Typed loosely, so that the probe may answer a status its schema leaves out.
          const schema: FastifySchema = {
            tags: ['test'],
            summary: 'A route that answers what its query asks for',
            querystring: Type.Object({ answer: Type.String() }),
            response: ok(Type.Object({ at: Type.String({ format: 'date-time' }) })),
          };
          app.get('/v1/contract-probe', { schema }, async (request, reply) => {
            const answer = (request.query as { answer: string }).answer;
            if (answer === 'accepted') return reply.code(202).send({ at: '2026-12-01T00:00:00.000Z' });
            if (answer === 'wrong') return { at: 'yesterday' };
            return { at: '2026-12-01T00:00:00.000Z' };
          });
        },
      ],
    });
  });
  afterAll(async () => {
    // The probe broke the contract on purpose; what it recorded was checked by the tests below.
    platform.contract.violations.length = 0;
    await platform.dispose();
  });

  it('passes a declared status with a body of its schema, and a catalogued error', async () => {
    const good = await platform.app.inject({ method: 'GET', url: '/v1/contract-probe?answer=fine' });
    expect(good.statusCode).toBe(200);
    const refused = await platform.app.inject({ method: 'GET', url: '/v1/contract-probe?answer=fine&x=1' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({ code: 'invalid_request', param: 'x' });
    expect(platform.contract.violations).toEqual([]);
  });

  it('records a status the document does not declare', async () => {
    await platform.app.inject({ method: 'GET', url: '/v1/contract-probe?answer=accepted' });
    expect(platform.contract.violations).toEqual(['GET /v1/contract-probe: status 202 is not declared']);
    platform.contract.violations.length = 0;
  });

  it('records a body outside its schema', async () => {
    // The serialiser writes any string; the check reads the format the document declares.
    const response = await platform.app.inject({ method: 'GET', url: '/v1/contract-probe?answer=wrong' });
    expect(response.statusCode).toBe(200);
    expect(platform.contract.violations).toEqual([
      'GET /v1/contract-probe 200: data/at must match format "date-time" in {"at":"yesterday"}',
    ]);
    platform.contract.violations.length = 0;
  });
});
