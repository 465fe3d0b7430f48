/**
 * JSON bodies read one way only. Every object key at most once: `JSON.parse` keeps the last of two equal keys, but
 * another parser in front of the platform (a proxy, a firewall, a client's own validation) may keep the
 * first; a body read differently by two parsers is a way to smuggle a value past one of them, so a body
 * that repeats a key is refused rather than guessed at (RFC 8259 section 4 leaves the behaviour open).
 *
 * And no NUL character in any string or key: PostgreSQL cannot store one in text, so a NUL that reached a
 * query would fail it (a 500, not a clear refusal), and no identifier, name or text of the API has a use
 * for one. Checking the parsed body here covers every route at once, so no schema can forget it.
 */
import type { FastifyError, FastifyRequest } from 'fastify';
import { CountersignError } from '../domain/errors.js';
import { limits } from '../domain/limits.js';
import type { FastifyTypebox } from './dependencies.js';

/**
 * The first key that appears twice in one object of `text`, or undefined. `text` must be valid JSON
 * (parse it first): the scan then only has to follow strings, objects and arrays.
 */
export function firstDuplicateKey(text: string): string | undefined {
  // One entry per open object (its keys so far) or array (null).
  const open: (Set<string> | null)[] = [];
  let expectingKey = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === '"') {
      const start = index;
      for (index++; index < text.length && text[index] !== '"'; index++) {
        if (text[index] === '\\') index++;
      }
      const keys = open[open.length - 1];
      if (expectingKey && keys instanceof Set) {
        // Parsed, so that "a" and "\u0061" are the same key, as they are to JSON.parse.
        const key = JSON.parse(text.slice(start, index + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectingKey = false;
      }
    } else if (character === '{') {
      open.push(new Set());
      expectingKey = true;
    } else if (character === '[') {
      open.push(null);
      expectingKey = false;
    } else if (character === '}' || character === ']') {
      open.pop();
      expectingKey = false;
    } else if (character === ',') {
      expectingKey = open[open.length - 1] instanceof Set;
    }
  }
  return undefined;
}

/** A path into a JSON value: object keys and array indexes, from the top. */
export type JsonPath = readonly (string | number)[];

/**
 * The path to the first string or object key of `value` that holds a NUL character, or undefined. For a
 * key, the path ends with that key. `value` is what `JSON.parse` returned.
 */
export function firstNulPath(value: unknown): JsonPath | undefined {
  // Iterative, so that a deeply nested body cannot overflow the stack.
  const pending: { value: unknown; path: JsonPath }[] = [{ value, path: [] }];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return path;
    } else if (current !== null && typeof current === 'object') {
      if (path.length >= limits.jsonScanDepthMax)
        throw new RangeError(`JSON nested deeper than ${limits.jsonScanDepthMax}`);
      const entries: [string | number, unknown][] = Array.isArray(current)
        ? current.map((item, index) => [index, item])
        : Object.entries(current);
      // Reversed onto the stack, so that the first field in the body is reported first.
      for (const [key, item] of entries.reverse()) {
        if (typeof key === 'string' && key.includes('\u0000')) return [...path, key];
        pending.push({ value: item, path: [...path, key] });
      }
    }
  }
  return undefined;
}

/** `["items", 0, "amount"]` → `items[0].amount`, the form of `param` in error responses. */
export function jsonPathText(path: JsonPath): string {
  let text = '';
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  }
  return text;
}

const safeParamPattern = new RegExp(`^[A-Za-z0-9_.[\\]-]{1,${limits.errorParamLengthMax}}$`);
const safeKeyPattern = new RegExp(`^[A-Za-z0-9_.-]{1,${limits.duplicateKeyParamLengthMax}}$`);

/**
 * Why a parsed JSON body is refused, or undefined when it is accepted: a key given twice in one object,
 * or a NUL character anywhere. `text` is the body as received, `value` what `JSON.parse` made of it. The
 * refusal names the field at fault when its name is a plain token (a name is never echoed otherwise).
 */
export function strictJsonRefusal(text: string, value: unknown): CountersignError | undefined {
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) {
    return new CountersignError('invalid_request', {
      message: 'The request body gives the same key twice in one object.',
      ...(safeKeyPattern.test(duplicate) && { param: duplicate }),
    });
  }
  const nul = firstNulPath(value);
  if (nul !== undefined) {
    const param = jsonPathText(nul);
    return new CountersignError('invalid_request', {
      message: 'The request body holds a NUL character (\\u0000), which no field accepts.',
      ...(safeParamPattern.test(param) && { param }),
    });
  }
  return undefined;
}

/**
 * Installs the platform's one JSON parser in `app`'s context: Fastify's own parser with prototype
 * poisoning refused, then the refusal of a repeated key or a NUL character. `onAccepted` sees each body
 * that passed, with its exact text (the terminal routes keep it: a signature covers those bytes).
 */
export function useStrictJsonParser(
  app: FastifyTypebox,
  onAccepted?: (request: FastifyRequest, text: string) => void,
): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    parseJson(request, text, (error, value) => {
      if (error !== null && error !== undefined) return done(error as FastifyError, undefined);
      const refusal = strictJsonRefusal(text, value);
      if (refusal !== undefined) return done(refusal as unknown as FastifyError, undefined);
      onAccepted?.(request, text);
      done(null, value);
    });
  });
}
