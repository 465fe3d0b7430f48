/**
 * The terminal's push stream (`GET /v1/terminal/events`, docs/terminal.md, "Push") as a second terminal
 * reads it: server-sent events read from a fetch body, because EventSource cannot send the signature
 * headers. Written once for the command line and the browser authenticator; pure, no I/O of its own.
 */

/** A pending payment as the platform sends it. */
export interface Challenge {
  readonly id: string;
  readonly paymentId: string;
  readonly firstCode: string;
  readonly amount: number;
  readonly currency: string;
  readonly payeeName: string;
  readonly expiresAt: string;
}

/** What the stream tells. */
export type TerminalEvent =
  | { readonly type: 'challenge'; readonly challenge: Challenge }
  | { readonly type: 'closed'; readonly paymentId: string }
  | { readonly type: 'revoked' };

/**
 * One event block (the lines between blank lines) as a terminal event, or undefined for a block without
 * data or of a kind this terminal does not know. Data lines are joined with line breaks, one space after
 * the colon is dropped, and the event is `message` when the block names none, as the EventSource
 * specification reads them.
 */
export function terminalEventOf(block: string): TerminalEvent | undefined {
  let name = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length === 0) return undefined;
  const text = data.join('\n');
  if (name === 'challenge') return { type: 'challenge', challenge: JSON.parse(text) as Challenge };
  if (name === 'closed')
    return { type: 'closed', paymentId: (JSON.parse(text) as { paymentId: string }).paymentId };
  if (name === 'revoked') return { type: 'revoked' };
  return undefined;
}

/** Reads an event stream body until it ends, calling `onEvent` for each terminal event as it arrives. */
export async function readTerminalEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: TerminalEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = terminalEventOf(block);
      if (event !== undefined) onEvent(event);
    }
  }
}
