// Reads a text/event-stream response event by event, for tests of the terminal stream.

/** One server-sent event. */
export interface StreamEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

/** Events of one response, read as they arrive. */
export class EventReader {
  private buffer = '';
  private readonly queue: StreamEvent[] = [];
  private ended = false;
  private wake: (() => void) | undefined;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(readonly response: Response) {
    this.reader = response.body!.getReader();
    void this.pump();
  }

  /** Closes the stream from this side, as a terminal going away does. */
  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  private async pump(): Promise<void> {
    const reader = this.reader;
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        this.parse();
      }
    } catch {
      // An aborted stream ends like a closed one.
    }
    this.ended = true;
    this.wake?.();
  }

  private parse(): void {
    let boundary = this.buffer.indexOf('\n\n');
    while (boundary !== -1) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        const name = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'event') event = value;
        else if (name === 'id') id = value;
        else if (name === 'data') data.push(value);
        else continue;
        fields += 1;
      }
      if (fields > 0 && data.length > 0) this.queue.push({ event, id, data: data.join('\n') });
      boundary = this.buffer.indexOf('\n\n');
    }
    this.wake?.();
  }

  /** The next event, or undefined when the stream ended; throws after `timeoutMs` without one. */
  async next(timeoutMs = 10_000): Promise<StreamEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length === 0) {
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.queue.shift();
  }

  /** True when nothing arrives within `ms` (the stream may still be open). */
  async quietFor(ms: number): Promise<boolean> {
    try {
      const event = await this.next(ms);
      if (event !== undefined) this.queue.unshift(event);
      return event === undefined;
    } catch {
      return true;
    }
  }
}
