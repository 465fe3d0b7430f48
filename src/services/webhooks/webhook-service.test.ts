// Proves that an event is delivered and listed in one form whenever it was recorded: today's body as stored, and a body stored before API version 2026-12-01 (Unix seconds in `created`) rewritten to an ISO 8601 `createdAt`.
import { describe, expect, it } from 'vitest';
import { eventBody, publicEventBody } from './webhook-service.js';

describe('the public body of an event', () => {
  const object = { id: 'pr_1', object: 'payment_request', status: 'paid' };

  it('is stored with its time as an ISO 8601 UTC string, and sent as stored', () => {
    const stored = eventBody('evt_1', 'payment_request.paid', Date.UTC(2026, 11, 1, 8, 30, 0, 250), object);
    expect(JSON.parse(stored)).toEqual({
      id: 'evt_1',
      object: 'event',
      type: 'payment_request.paid',
      createdAt: '2026-12-01T08:30:00.250Z',
      data: { object },
    });
    expect(publicEventBody(stored)).toBe(stored);
  });

  it('rewrites a body stored in the old form, keeping everything else', () => {
    const old = JSON.stringify({
      id: 'evt_0',
      type: 'refund.succeeded',
      created: 1_767_225_600,
      data: { object },
    });
    expect(JSON.parse(publicEventBody(old))).toEqual({
      id: 'evt_0',
      object: 'event',
      type: 'refund.succeeded',
      createdAt: '2026-01-01T00:00:00.000Z',
      data: { object },
    });
  });
});
