/**
 * Asking for the verification code: on a terminal without echo (nothing is printed as it is typed, not
 * even stars, so that its length does not show), or as the first line of standard input with
 * `--verification-code-stdin` (scripts and tests). Never from an option, which would end up in the
 * process list and the shell history.
 */
import { limits } from '../../domain/limits.js';
import { isVerificationCode } from '../../domain/payer.js';

/** The verification code could not be read or has the wrong shape. */
export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

let stdinLines: Promise<string[]> | undefined;

/** The lines of standard input, read once (several prompts of one command share them). */
function readStdinLines(): Promise<string[]> {
  stdinLines ??= new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').split(/\r?\n/)));
    process.stdin.on('error', reject);
  });
  return stdinLines;
}

function hiddenPrompt(question: string): Promise<string> {
  const input = process.stdin;
  return new Promise((resolve, reject) => {
    let typed = '';
    process.stderr.write(question);
    input.setRawMode(true);
    input.resume();
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.removeListener('data', onData);
      process.stderr.write('\n');
      if (error === undefined) resolve(typed);
      else reject(error);
    };
    const onData = (chunk: Buffer) => {
      for (const character of chunk.toString('utf8')) {
        if (character === '\r' || character === '\n') return finish();
        if (character === '\u0003') return finish(new PromptError('interrupted'));
        if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
        else if (character >= ' ') typed += character;
      }
    };
    input.on('data', onData);
  });
}

/** Reads the verification code; throws PromptError when it cannot be asked or is not 4–12 digits. */
export async function askVerificationCode(
  fromStdin: boolean,
  question = 'Verification code: ',
): Promise<string> {
  let code: string;
  if (fromStdin) {
    code = (await readStdinLines())[0] ?? '';
  } else if (process.stdin.isTTY) {
    code = await hiddenPrompt(question);
  } else {
    throw new PromptError(
      'no terminal to ask the verification code on; pipe it with --verification-code-stdin',
    );
  }
  code = code.trim();
  if (!isVerificationCode(code))
    throw new PromptError(
      `the verification code must be ${limits.verificationCodeDigitsMin} to ${limits.verificationCodeDigitsMax} digits`,
    );
  return code;
}
