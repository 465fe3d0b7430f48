// Proves that a notice query value only ever picks one of an area's fixed sentences, so a link cannot put text of its own on a page.
import { describe, expect, it } from 'vitest';
import { type Banner, noticeOf } from './layout.js';

const notices: Readonly<Record<string, Banner>> = {
  saved: { kind: 'notice', text: 'Saved.' },
  expired: { kind: 'warning', text: 'Your session ended.' },
};

describe('noticeOf', () => {
  it('gives the banner a known notice names', () => {
    expect(noticeOf(notices, 'saved')).toEqual([{ kind: 'notice', text: 'Saved.' }]);
    expect(noticeOf(notices, 'expired')).toEqual([{ kind: 'warning', text: 'Your session ended.' }]);
  });

  it('gives nothing for an unknown value, a property every object has, or a value that is not a string', () => {
    for (const notice of [
      '<script>alert(1)</script>',
      'toString',
      '__proto__',
      'constructor',
      '',
      undefined,
    ]) {
      expect(noticeOf(notices, notice)).toEqual([]);
    }
    expect(noticeOf(notices, ['saved'])).toEqual([]);
    expect(noticeOf(notices, 42)).toEqual([]);
  });
});
