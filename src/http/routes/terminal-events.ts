/**
 * The Server-Sent Events stream of a terminal (`GET /v1/terminal/events`, docs/terminal.md, "Push"). On
 * connect it sends every open challenge of the terminal, then each new one as the outbox or the stream
 * poll offers it, `closed` when a payment it was sent is no longer open, and `revoked` before it ends
 * because the terminal was revoked. A comment every 15 seconds keeps proxies from closing it, and it ends
 * after an hour: the terminal reconnects with a freshly signed request.
 */
import type { FastifyReply } from 'fastify';
import { limits } from '../../domain/limits.js';
import type { TerminalStreamEvent, TerminalStreamSink } from '../../services/terminals/terminal-push-hub.js';
import type { AuthenticatedTerminal } from '../../services/terminals/terminal-service.js';
import type { HttpServices } from '../services.js';
import { challengeJson } from './terminal-json.js';

/** How a stream's timers are set; tests shorten them. */
export interface StreamTimings {
  readonly heartbeatMs: number;
  readonly lifetimeMs: number;
}

/** The production timings, from `limits.ts`. */
export const streamTimings: StreamTimings = Object.freeze({
  heartbeatMs: limits.terminalStreamHeartbeatSeconds * 1000,
  lifetimeMs: limits.terminalStreamLifetimeSeconds * 1000,
});

/** One event in the text/event-stream format; JSON never contains a raw line break, so one data line. */
export function formatStreamEvent(event: TerminalStreamEvent): string {
  switch (event.type) {
    case 'challenge':
      return `event: challenge\nid: ${event.challenge.paymentId}\ndata: ${JSON.stringify(challengeJson(event.challenge))}\n\n`;
    case 'closed':
      return `event: closed\ndata: ${JSON.stringify({ paymentId: event.paymentId })}\n\n`;
    case 'revoked':
      return 'event: revoked\ndata: {}\n\n';
  }
}

/**
 * Takes the reply over and streams events to the terminal until it disconnects, the stream's lifetime
 * ends, the terminal is revoked or the server shuts down. Registering first means that a terminal with too
 * many streams gets the usual JSON error (429 terminal_streams_exhausted), not a broken stream.
 */
export async function streamTerminalEvents(
  reply: FastifyReply,
  terminal: AuthenticatedTerminal,
  services: HttpServices,
  timings: StreamTimings = streamTimings,
): Promise<void> {
  const raw = reply.raw;
  let ended = false;
  const timers: NodeJS.Timeout[] = [];
  let unregister = (): void => {};
  const end = (): void => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearInterval(timer);
    unregister();
    raw.end();
  };
  const sink: TerminalStreamSink = {
    send: (event) => {
      if (!ended) raw.write(formatStreamEvent(event));
    },
    close: end,
  };
  unregister = services.terminalHub.register(terminal.id, sink);
  reply.hijack();
  // The common onSend hook does not run for a hijacked reply, so its security headers are set here.
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
    'x-accel-buffering': 'no',
  });
  raw.write(`retry: ${limits.terminalStreamRetryMs}\n\n`);
  raw.on('close', end);
  timers.push(
    setInterval(() => {
      if (!ended) raw.write(': keep-alive\n\n');
    }, timings.heartbeatMs),
    setTimeout(end, timings.lifetimeMs),
  );
  for (const timer of timers) timer.unref();
  try {
    for (const challenge of await services.terminals.challenges(terminal)) {
      services.terminalHub.publish(terminal.id, challenge);
    }
  } catch (error) {
    reply.log.error({ err: error }, 'terminal stream could not load open challenges');
    end();
  }
}
