/**
 * JSON bodies with every object key at most once. `JSON.parse` keeps the last of two equal keys, but
 * another parser in front of the platform (a proxy, a firewall, a client's own validation) may keep the
 * first; a body read differently by two parsers is a way to smuggle a value past one of them, so a body
 * that repeats a key is refused rather than guessed at (RFC 8259 section 4 leaves the behaviour open).
 */

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
