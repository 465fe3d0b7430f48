// Proves that a terminal reads the push stream's challenge, closed and revoked events however the bytes are cut, and passes over comments, unknown events and blocks without data.
import { describe, expect, it } from 'vitest';
import { readTerminalEvents, type TerminalEvent, terminalEventOf } from './terminal-events.js';

const challenge = {
  id: 'c1',
  paymentId: '0f8b2c1e-5d4a-4e3b-9c2d-1a0b9c8d7e6f',
  firstCode: '12345678',
  amount: 1250,
  currency: 'EUR',
  payeeName: 'Café Olé',
  expiresAt: '2026-01-01T12:00:00.000Z',
};

/** A body that delivers `text` cut into pieces of `size` bytes (a multi-byte character may be cut). */
function bodyOf(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

describe('the push stream as a terminal reads it', () => {
  const stream =
    ': keep-alive\n\n' +
    `event: challenge\nid: ${challenge.paymentId}\ndata: ${JSON.stringify(challenge)}\n\n` +
    'event: unknown\ndata: {}\n\n' +
    'event: closed\n\n' +
    `event: closed\ndata: {"paymentId":"${challenge.paymentId}"}\n\n` +
    'event: revoked\ndata: {}\n\n' +
    'event: challenge\ndata: {"incomplete';

  for (const size of [1, 3, 7, 4096]) {
    it(`gives the same events in pieces of ${size} bytes`, async () => {
      const events: TerminalEvent[] = [];
      await readTerminalEvents(bodyOf(stream, size), (event) => events.push(event));
      expect(events).toEqual([
        { type: 'challenge', challenge },
        { type: 'closed', paymentId: challenge.paymentId },
        { type: 'revoked' },
      ]);
    });
  }

  it('joins data lines with line breaks and drops one space after the colon', () => {
    expect(terminalEventOf('event: closed\ndata: {"paymentId":\ndata:  "p1"}')).toEqual({
      type: 'closed',
      paymentId: 'p1',
    });
    expect(terminalEventOf('data: {}')).toBeUndefined();
  });
});
