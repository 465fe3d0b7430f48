// Proves that the duplicate-key scan finds a key given twice in any object of a JSON text, however it is escaped, and nothing else.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstDuplicateKey } from './strict-json.js';

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
