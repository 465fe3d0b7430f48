// Proves that the duplicate-key scan finds a key given twice in any object of a JSON text, however it is escaped, and nothing else; and that the NUL scan finds a NUL character in any string or key of a parsed body, and nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstDuplicateKey, firstNulPath, jsonPathText, strictJsonRefusal } from './strict-json.js';

describe('firstDuplicateKey', () => {
  it('finds a repeated key at any depth, escaped or not', () => {
    expect(firstDuplicateKey('{"a":1,"a":2}')).toBe('a');
    expect(firstDuplicateKey('{"x":{"b":1,"\\u0062":2}}')).toBe('b');
    expect(firstDuplicateKey('[{"k":1},{"k":1,"k":[]}]')).toBe('k');
  });

  it('accepts equal keys in different objects and keys that appear as values', () => {
    expect(firstDuplicateKey('{"a":{"a":1},"b":"a","c":["a","a"]}')).toBeUndefined();
    expect(firstDuplicateKey('{"a\\"":1,"a":2}')).toBeUndefined();
    expect(firstDuplicateKey('"a"')).toBeUndefined();
  });

  it('finds nothing in any JSON.stringify output, which never repeats a key', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        (value) => firstDuplicateKey(JSON.stringify(value) ?? 'null') === undefined,
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('firstNulPath', () => {
  it('finds a NUL in a value or a key at any depth, and names where', () => {
    expect(firstNulPath(JSON.parse('{"payerId":"alice\\u0000"}'))).toEqual(['payerId']);
    expect(firstNulPath(JSON.parse('{"a":[1,{"b":"\\u0000x"}]}'))).toEqual(['a', 1, 'b']);
    expect(firstNulPath(JSON.parse('{"a":{"k\\u0000":1}}'))).toEqual(['a', 'k\u0000']);
    expect(firstNulPath(JSON.parse('"\\u0000"'))).toEqual([]);
    expect(firstNulPath({ first: 'ok', second: 'a\u0000', third: 'b\u0000' })).toEqual(['second']);
  });

  it('accepts other control characters and an escaped backslash before u0000', () => {
    expect(firstNulPath(JSON.parse('{"a":"line\\nbreak\\u0001","b":"\\\\u0000"}'))).toBeUndefined();
    expect(firstNulPath(null)).toBeUndefined();
  });

  it('finds nothing in any JSON value without a NUL, and the NUL in any with one', () => {
    const noNul = fc.jsonValue().filter((value) => !JSON.stringify(value)?.includes('\\u0000'));
    fc.assert(
      fc.property(noNul, (value) => firstNulPath(value) === undefined),
      { seed: 42, numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(fc.string()), fc.nat(), (strings, at) => {
        const withNul = [...strings];
        withNul.splice(at % (strings.length + 1), 0, 'x\u0000');
        const path = firstNulPath({ list: withNul });
        return path !== undefined && path[0] === 'list';
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('strictJsonRefusal', () => {
  it('refuses a NUL with invalid_request, naming a plain field and never echoing another', () => {
    const text = '{"items":[{"name":"a\\u0000"}]}';
    expect(strictJsonRefusal(text, JSON.parse(text))).toMatchObject({
      code: 'invalid_request',
      param: 'items[0].name',
    });
    const odd = '{"<script>":"\\u0000"}';
    const refusal = strictJsonRefusal(odd, JSON.parse(odd));
    expect(refusal?.code).toBe('invalid_request');
    expect(refusal?.param).toBeUndefined();
    expect(refusal?.message).not.toContain('script');
    expect(strictJsonRefusal('{"a":"b"}', { a: 'b' })).toBeUndefined();
    expect(jsonPathText(['a', 0, 'b'])).toBe('a[0].b');
  });
});
