// Proves that a terminal signs every request, signs a request refused as stale once more with the platform's clock (and only once, and not when told not to), and words a refusal from the platform's body or, when it says nothing, in the host's own words.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateTerminalKeyPair, terminalRequestHeaders } from '../domain/enrollment-credential.js';
import { PlatformRefusal, SignedRequests, TerminalApiClient } from './terminal-api-client.js';
import { redeemEnrollment } from './terminal-enrollment.js';

interface Sent {
  readonly url: string;
  readonly init: RequestInit;
}

/** Replaces fetch with one that answers `answers` in turn and records what was sent. */
function stubFetch(answers: readonly (() => Response)[]): Sent[] {
  const sent: Sent[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const answer = answers[sent.length];
    sent.push({ url, init });
    if (answer === undefined) throw new Error('no answer left');
    return answer();
  });
  return sent;
}

const json = (status: number, body: unknown) => () =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const stale = (serverTime: number) =>
  json(401, { error: { code: 'terminal_request_expired', message: 'Too old.', serverTime } });

function requests(): SignedRequests {
  return new SignedRequests({
    platformUrl: 'https://pay.example.com',
    requestInit: { credentials: 'omit' },
    unexplainedRefusal: (status) => `answered ${status}`,
  });
}

function timestampOf(sent: Sent): number {
  return Number((sent.init.headers as Record<string, string>)[terminalRequestHeaders.timestamp]);
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the signed terminal client', () => {
  it("signs again once with the platform's clock after a stale refusal, and keeps that clock", async () => {
    const { privateKey } = await generateTerminalKeyPair();
    const serverTime = Date.now() + 3_600_000;
    const sent = stubFetch([stale(serverTime), json(200, { data: [] }), json(200, { data: [] })]);
    const client = new TerminalApiClient(requests(), 'terminal-1', privateKey);
    expect(await client.challenges()).toEqual([]);
    expect(await client.challenges()).toEqual([]);
    expect(sent.map((request) => request.url)).toEqual(
      Array(3).fill('https://pay.example.com/v1/terminal/challenges'),
    );
    expect(sent[0]!.init).toMatchObject({ method: 'GET', credentials: 'omit' });
    expect((sent[0]!.init.headers as Record<string, string>)[terminalRequestHeaders.terminal]).toBe(
      'terminal-1',
    );
    expect(Math.abs(timestampOf(sent[0]!) - Date.now())).toBeLessThan(60_000);
    expect(Math.abs(timestampOf(sent[1]!) - serverTime)).toBeLessThan(60_000);
    expect(Math.abs(timestampOf(sent[2]!) - serverTime)).toBeLessThan(60_000);
  });

  it('does not sign a third time, and says what the platform said', async () => {
    const { privateKey } = await generateTerminalKeyPair();
    const sent = stubFetch([stale(Date.now()), stale(Date.now())]);
    const client = new TerminalApiClient(requests(), 'terminal-1', privateKey);
    const refusal = await client.approve('p 1', '12345678').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(PlatformRefusal);
    expect(refusal).toMatchObject({ status: 401, code: 'terminal_request_expired', message: 'Too old.' });
    expect(sent).toHaveLength(2);
    expect(sent[0]!.url).toBe('https://pay.example.com/v1/terminal/payments/p%201/approve');
    expect(sent[0]!.init.body).toBe('{"secondCode":"12345678"}');
    expect((sent[0]!.init.headers as Record<string, string>)['content-type']).toBe('application/json');
  });

  it('does not sign again when told not to, and words an unexplained refusal as the host says', async () => {
    const { privateKey } = await generateTerminalKeyPair();
    const sent = stubFetch([stale(Date.now())]);
    const payload = { enrollmentId: 'e1', secret: 's' };
    await expect(
      redeemEnrollment(requests(), privateKey, payload, { retryWhenStale: false }),
    ).rejects.toMatchObject({ code: 'terminal_request_expired' });
    expect(sent).toHaveLength(1);
    // The enrollment's key id stands in for the terminal: no terminal header.
    expect(
      (sent[0]!.init.headers as Record<string, string>)[terminalRequestHeaders.terminal],
    ).toBeUndefined();
    stubFetch([() => new Response('Bad gateway', { status: 502 })]);
    await expect(redeemEnrollment(requests(), privateKey, payload)).rejects.toMatchObject({
      status: 502,
      code: 'http_502',
      message: 'answered 502',
    });
    stubFetch([() => new Response('Bad gateway', { status: 502 })]);
    await expect(
      redeemEnrollment(requests(), privateKey, payload, { unexplained: 'enrollment refused' }),
    ).rejects.toMatchObject({ message: 'enrollment refused' });
  });
});
