/**
 * `countersign terminal …`: the command line as a payer's second terminal (docs/terminal.md, "Command
 * line"). It is a client of a running platform, never of its database: `enroll` redeems an enrollment URI
 * and keeps the keys in an encrypted file; `list` and `watch` show pending payments with payee and amount;
 * `respond` computes a second code offline; `approve` sends one, signed; `revoke` retires the terminal.
 */

import type { Command } from 'commander';
import { base64urlToBytes, importPrivateKey } from '../../domain/enrollment-credential.js';
import { EnrollmentUriError, parseEnrollmentUri } from '../../domain/enrollment-uri.js';
import { hexToBytes } from '../../domain/hex.js';
import { limits } from '../../domain/limits.js';
import { formatMoney } from '../../domain/money.js';
import { computeOcra } from '../../domain/ocra.js';
import {
  PlatformRefusal,
  SignedRequests,
  TerminalApiClient,
} from '../../terminal-core/terminal-api-client.js';
import { enrollTerminal } from '../../terminal-core/terminal-enrollment.js';
import type { Challenge } from '../../terminal-core/terminal-events.js';
import { askVerificationCode, PromptError } from './terminal-prompt.js';
import {
  defaultTerminalFile,
  openTerminalFile,
  readTerminalIdentity,
  TerminalFileError,
  writeTerminalFile,
} from './terminal-vault.js';

/** Exit codes: 1 when the platform refuses, 2 for bad input (a malformed URI, a wrong verification code). */
const exitCodes = Object.freeze({ refused: 1, badInput: 2 });

interface FileOptions {
  file?: string;
  verificationCodeStdin?: boolean;
}

const firstCodePattern = /^[0-9]{8}$/;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One line describing a pending payment: what the payer approves, and with which first code. */
export function challengeLine(challenge: Challenge): string {
  const until = new Date(challenge.expiresAt).toLocaleTimeString('en-GB', { hour12: false });
  return (
    `${formatMoney(BigInt(challenge.amount), challenge.currency)} to ${challenge.payeeName}` +
    ` · first code ${challenge.firstCode} · payment ${challenge.paymentId} · expires ${until}`
  );
}

/** How this computer reaches a platform: at its URL, each request but the event stream within a bound. */
function signedRequests(platformUrl: string): SignedRequests {
  return new SignedRequests({
    platformUrl,
    requestTimeoutMs: limits.terminalRequestTimeoutMs,
    unexplainedRefusal: (status) => `the platform answered HTTP ${status}`,
  });
}

/** Runs a command body; expected failures print one line on stderr and set the exit code. */
async function run(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (error instanceof PlatformRefusal) {
      process.stderr.write(`countersign terminal: ${error.code}: ${error.message}\n`);
      process.exitCode = exitCodes.refused;
    } else if (
      error instanceof PromptError ||
      error instanceof TerminalFileError ||
      error instanceof EnrollmentUriError
    ) {
      process.stderr.write(`countersign terminal: ${error.message}\n`);
      process.exitCode = exitCodes.badInput;
    } else {
      throw error;
    }
  }
}

/** Opens the terminal file and builds its signed client. */
async function openTerminal(options: FileOptions) {
  const file = options.file ?? defaultTerminalFile();
  await readTerminalIdentity(file);
  const verificationCode = await askVerificationCode(options.verificationCodeStdin === true);
  const { identity, secrets } = await openTerminalFile(file, verificationCode);
  const signingKey = await importPrivateKey(base64urlToBytes(secrets.signingKeyPkcs8));
  const client = new TerminalApiClient(signedRequests(identity.platformUrl), identity.terminalId, signingKey);
  const secondCode = (firstCode: string) =>
    computeOcra({
      suite: identity.suite,
      key: hexToBytes(secrets.ocraKeyHex),
      question: firstCode,
      pin: verificationCode,
    });
  return { identity, client, secondCode, verificationCode };
}

/** Refuses to overwrite a terminal file unless told to (`--force`). */
async function refuseToReplace(file: string, force: boolean): Promise<void> {
  if (force) return;
  const exists = await readTerminalIdentity(file).then(
    () => true,
    () => false,
  );
  if (exists) {
    throw new TerminalFileError(
      `${file} already holds a terminal; use --file for another or --force to replace it`,
    );
  }
}

async function enroll(
  uri: string,
  options: FileOptions & { label?: string; force?: boolean },
): Promise<void> {
  const enrollment = parseEnrollmentUri(uri);
  const file = options.file ?? defaultTerminalFile();
  await refuseToReplace(file, options.force === true);
  if (enrollment.expiresAtMs <= Date.now()) {
    process.stderr.write(
      "countersign terminal: warning: this enrollment looks expired by this computer's clock\n",
    );
  }
  const verificationCode = await askVerificationCode(options.verificationCodeStdin === true);
  // Sent once: a refusal as stale is printed with its code, since the payer can set this computer's clock;
  // the browser, whose clock a payer often cannot set, signs again with the platform's.
  const { identity, secrets } = await enrollTerminal(
    signedRequests(enrollment.platformUrl),
    enrollment,
    verificationCode,
    options.label,
    { retryWhenStale: false, unexplained: 'enrollment refused' },
  );
  await writeTerminalFile(file, identity, secrets, verificationCode);
  process.stdout.write(
    `enrolled terminal ${identity.terminalId} for payer ${enrollment.payerId} at ${enrollment.platformUrl}\n`,
  );
}

async function list(options: FileOptions): Promise<void> {
  const { client } = await openTerminal(options);
  const challenges = await client.challenges();
  if (challenges.length === 0) process.stdout.write('no payment is waiting for approval\n');
  for (const challenge of challenges) process.stdout.write(`${challengeLine(challenge)}\n`);
}

async function watch(options: FileOptions): Promise<void> {
  const { client } = await openTerminal(options);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  let revoked = false;
  process.stderr.write('watching for payments to approve (Ctrl-C to stop)\n');
  while (!stop.signal.aborted && !revoked) {
    try {
      await client.stream((event) => {
        if (event.type === 'challenge') process.stdout.write(`${challengeLine(event.challenge)}\n`);
        else if (event.type === 'closed') process.stdout.write(`closed · payment ${event.paymentId}\n`);
        else revoked = true;
      }, stop.signal);
    } catch (error) {
      if (stop.signal.aborted) break;
      if (error instanceof PlatformRefusal) throw error;
      // The server went away (a restart, a network change): reconnect after a moment.
    }
    if (!stop.signal.aborted && !revoked)
      await new Promise((resolve) => setTimeout(resolve, limits.commandLineStreamRetryMs));
  }
  if (revoked) throw new PlatformRefusal(401, 'terminal_revoked', 'This terminal was revoked.');
}

async function respond(firstCode: string, options: FileOptions): Promise<void> {
  if (!firstCodePattern.test(firstCode)) throw new PromptError('the first code is 8 digits');
  const { secondCode } = await openTerminal(options);
  process.stdout.write(`${await secondCode(firstCode)}\n`);
}

async function approve(paymentId: string, options: FileOptions): Promise<void> {
  if (!uuidPattern.test(paymentId))
    throw new PromptError('the payment id is a UUID, as `terminal list` shows it');
  const { client, secondCode } = await openTerminal(options);
  const challenge = (await client.challenges()).find((candidate) => candidate.paymentId === paymentId);
  if (challenge === undefined) {
    throw new PlatformRefusal(
      404,
      'payment_not_found',
      'No payment with this id is waiting for this terminal.',
    );
  }
  process.stderr.write(`approving ${challengeLine(challenge)}\n`);
  const status = await client.approve(paymentId, await secondCode(challenge.firstCode));
  process.stdout.write(`payment ${paymentId} ${status}\n`);
}

/** The lock of the terminal's payer, as one line. */
function lockLine(state: Record<string, unknown>): string {
  if (state['blocked'] === true) return 'locked: blocked by the operator (only the operator can unlock)';
  if (state['locked'] !== true)
    return `not locked (${String(state['consecutiveFailures'])} failed attempts in a row)`;
  return `locked until ${String(state['lockedUntil'])}`;
}

async function lockStatus(options: FileOptions): Promise<void> {
  const { client } = await openTerminal(options);
  process.stdout.write(`${lockLine(await client.request('GET', '/v1/terminal/lock'))}\n`);
}

/**
 * Unlocks the payer: the terminal's signature (possession) and the verification code (knowledge), the same
 * code that opened the terminal file. One attempt; a wrong code counts like a wrong password.
 */
async function unlockPayer(options: FileOptions): Promise<void> {
  const { client, verificationCode } = await openTerminal(options);
  const state = await client.request('POST', '/v1/terminal/unlock', { verificationCode });
  process.stdout.write(`${lockLine(state)}\n`);
}

async function revoke(options: FileOptions): Promise<void> {
  const { client, identity } = await openTerminal(options);
  await client.revoke();
  process.stdout.write(`terminal ${identity.terminalId} revoked; remove its file\n`);
}

function fileOptions(command: Command): Command {
  return command
    .option('--file <path>', 'the terminal file (default ~/.countersign/terminal.json)')
    .option('--verification-code-stdin', 'read the verification code from the first line of standard input');
}

/** Registers `terminal enroll|list|watch|respond|approve|lock|unlock|revoke`. */
export function registerTerminalCommands(program: Command): void {
  const terminal = program
    .command('terminal')
    .description(
      'use this computer as a second terminal: enroll, see pending payments, compute and send codes',
    );
  fileOptions(
    terminal
      .command('enroll')
      .argument('<uri>', 'the enrollment URI (countersign://enroll?…) from the platform')
      .description('redeem an enrollment and keep the keys in a file encrypted under your verification code')
      .option('--label <label>', 'what to call this terminal, e.g. "work laptop"')
      .option('--force', 'replace the terminal file if one exists'),
  ).action((uri: string, options: FileOptions & { label?: string; force?: boolean }) =>
    run(() => enroll(uri, options)),
  );
  fileOptions(
    terminal.command('list').description('list the payments waiting for approval, with payee and amount'),
  ).action((options: FileOptions) => run(() => list(options)));
  fileOptions(
    terminal.command('watch').description('show payments to approve as they come, until Ctrl-C'),
  ).action((options: FileOptions) => run(() => watch(options)));
  fileOptions(
    terminal
      .command('respond')
      .argument('<first-code>', 'the 8-digit first code shown by the first terminal')
      .description('compute the second code for a first code (works offline)'),
  ).action((firstCode: string, options: FileOptions) => run(() => respond(firstCode, options)));
  fileOptions(
    terminal
      .command('approve')
      .argument('<payment-id>', 'the payment to approve, as `terminal list` shows it')
      .description('compute the second code and send it to the platform, signed'),
  ).action((paymentId: string, options: FileOptions) => run(() => approve(paymentId, options)));
  fileOptions(
    terminal.command('lock').description('show whether your payer id is locked, and until when'),
  ).action((options: FileOptions) => run(() => lockStatus(options)));
  fileOptions(
    terminal
      .command('unlock')
      .description(
        'lift the lock of your payer id with this terminal and your verification code (one attempt)',
      ),
  ).action((options: FileOptions) => run(() => unlockPayer(options)));
  fileOptions(
    terminal.command('revoke').description('revoke this terminal at the platform (before discarding it)'),
  ).action((options: FileOptions) => run(() => revoke(options)));
}
