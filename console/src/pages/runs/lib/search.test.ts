import { describe, expect, it } from 'vitest';
import { parseAnsi } from './ansi';
import { LineStore } from './lines';
import { Finder, MAX_MATCHES, highlight } from './search';

const store = () => {
  const s = new LineStore();
  ['alpha', 'Beta error', 'gamma', '\u001b[31mERROR\u001b[0m here'].forEach((text, i) => s.add({ step_id: 'a', line_no: i + 1, text }));
  s.add({ step_id: 'b', line_no: 1, text: 'no match' });
  return s;
};

describe('Finder', () => {
  it('finds lines case-insensitively, ignoring escape codes', () => {
    const s = store();
    const f = new Finder('error');
    expect(f.update(s.sections)).toBe(true);
    expect(f.matches(s.sections)).toEqual([
      { section: 0, line: 1 },
      { section: 0, line: 3 },
    ]);
  });

  it('scans only the new lines, and orders matches by section', () => {
    const s = store();
    const f = new Finder('error');
    f.update(s.sections);
    s.add({ step_id: 'b', line_no: 2, text: 'an error in b' });
    s.add({ step_id: 'a', line_no: 5, text: 'late error in a' });
    expect(f.update(s.sections)).toBe(true);
    expect(f.update(s.sections)).toBe(false);
    expect(f.matches(s.sections)).toEqual([
      { section: 0, line: 1 },
      { section: 0, line: 3 },
      { section: 0, line: 4 },
      { section: 1, line: 1 },
    ]);
    // Only one section shown: indexes are of that list.
    expect(f.matches([s.sections[1]!])).toEqual([{ section: 0, line: 1 }]);
  });

  it('stops keeping matches at the cap', () => {
    const s = new LineStore();
    for (let i = 1; i <= MAX_MATCHES + 5; i++) s.add({ step_id: 'a', line_no: i, text: 'x' });
    const f = new Finder('x');
    f.update(s.sections);
    expect(f.matches(s.sections)).toHaveLength(MAX_MATCHES);
    expect(f.capped).toBe(true);
  });

  it('finds nothing for an empty query', () => {
    const s = store();
    const f = new Finder('');
    expect(f.update(s.sections)).toBe(false);
    expect(f.matches(s.sections)).toEqual([]);
  });
});

describe('highlight', () => {
  it('splits across styled segments', () => {
    const segs = parseAnsi('ab\u001b[31mcd\u001b[0mef');
    expect(highlight(segs, 'BCD')).toEqual([
      { text: 'a', cls: '', hit: false },
      { text: 'b', cls: '', hit: true },
      { text: 'cd', cls: 'ansi-fg-1', hit: true },
      { text: 'ef', cls: '', hit: false },
    ]);
  });

  it('marks every occurrence and leaves other lines alone', () => {
    expect(highlight([{ text: 'xox', cls: '' }], 'x').map((m) => m.hit)).toEqual([true, false, true]);
    expect(highlight([{ text: 'abc', cls: '' }], 'z')).toEqual([{ text: 'abc', cls: '', hit: false }]);
  });
});
