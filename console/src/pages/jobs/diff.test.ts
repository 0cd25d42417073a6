import { describe, expect, it } from 'vitest';
import { diffStats, lineDiff, sign } from './diff';

describe('lineDiff', () => {
  it('marks each line with its numbers', () => {
    const lines = lineDiff('name: a\nsteps:\n- id: one\n', 'name: a\nsteps:\n- id: two\n- id: three\n');
    expect(lines).toEqual([
      { kind: 'same', text: 'name: a', oldNo: 1, newNo: 1 },
      { kind: 'same', text: 'steps:', oldNo: 2, newNo: 2 },
      { kind: 'removed', text: '- id: one', oldNo: 3 },
      { kind: 'added', text: '- id: two', newNo: 3 },
      { kind: 'added', text: '- id: three', newNo: 4 },
    ]);
    expect(diffStats(lines)).toEqual({ added: 2, removed: 1 });
    expect(lines.map((l) => sign(l.kind)).join('')).toBe('  -++');
  });

  it('is all unchanged for equal texts, even without a final newline', () => {
    expect(lineDiff('a\nb', 'a\nb').every((l) => l.kind === 'same')).toBe(true);
    expect(lineDiff('', '')).toEqual([]);
  });
});
