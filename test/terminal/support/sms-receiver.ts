// A local SMS gateway for tests: records every signed message it receives and answers as told.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One message as received. */
export interface ReceivedMessage {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A gateway listening on 127.0.0.1. */
export interface SmsReceiver {
  readonly url: string;
  readonly received: ReceivedMessage[];
  /** The status the next requests are answered with (200 unless set). */
  status: number;
  close(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startSmsReceiver(): Promise<SmsReceiver> {
  const received: ReceivedMessage[] = [];
  const receiver = { received, status: 200 } as { received: ReceivedMessage[]; status: number };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(receiver.status, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/sms`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
