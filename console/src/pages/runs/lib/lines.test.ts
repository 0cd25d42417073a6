import { describe, expect, it } from 'vitest';
import { LineStore, META, STDERR, STDOUT, locate, rowCount, rowOf } from './lines';

const line = (step: string, n: number, text = `l${n}`, stream = 'stdout') => ({ step_id: step, target_id: 't1', line_no: n, stream, text });

describe('LineStore', () => {
  it('keeps lines per step and target, with their stream', () => {
    const s = new LineStore();
    s.add(line('a', 1));
    s.add(line('a', 2, 'oops', 'stderr'));
    s.add({ step_id: 'b', line_no: 1, text: 'x' });
    expect(s.sections.map((x) => x.texts)).toEqual([['l1', 'oops'], ['x']]);
    expect([s.sections[0]!.kinds[0], s.sections[0]!.kinds[1]]).toEqual([STDOUT, STDERR]);
    expect(s.total).toBe(3);
  });

  it('skips what a replay after a reconnect repeats, keeps what is new', () => {
    const s = new LineStore();
    s.stepStarted('a', 't1', 1);
    [1, 2, 3].forEach((n) => s.add(line('a', n)));
    s.reconnect();
    s.stepStarted('a', 't1', 1);
    const kept = [1, 2, 3, 4, 5].map((n) => s.add(line('a', n)));
    expect(kept).toEqual([false, false, false, true, true]);
    expect(s.sections[0]!.texts).toEqual(['l1', 'l2', 'l3', 'l4', 'l5']);
  });

  it('separates attempts, whose line numbers start again', () => {
    const s = new LineStore();
    s.stepStarted('a', 't1', 1);
    s.add(line('a', 1, 'first'));
    s.stepStarted('a', 't1', 2);
    s.add(line('a', 1, 'second'));
    s.reconnect();
    s.stepStarted('a', 't1', 1);
    expect(s.add(line('a', 1, 'first'))).toBe(false);
    s.stepStarted('a', 't1', 2);
    expect(s.add(line('a', 1, 'second'))).toBe(false);
    expect(s.sections[0]!.texts).toEqual(['first', '── attempt 2 ──', 'second']);
    expect(s.sections[0]!.kinds[1]).toBe(META);
  });

  it('grows its kind bytes past the first block', () => {
    const s = new LineStore();
    for (let n = 1; n <= 1000; n++) s.add(line('a', n, 'x', n % 2 ? 'stdout' : 'stderr'));
    expect(s.sections[0]!.texts.length).toBe(1000);
    expect(s.sections[0]!.kinds[999]).toBe(STDERR);
  });
});

describe('flat rows', () => {
  it('maps rows to section headers and lines and back', () => {
    const s = new LineStore();
    [1, 2].forEach((n) => s.add(line('a', n)));
    s.add(line('b', 1));
    expect(rowCount(s.sections)).toBe(5);
    expect([0, 1, 2, 3, 4, 5].map((i) => locate(s.sections, i))).toEqual([
      { section: 0, line: -1 },
      { section: 0, line: 0 },
      { section: 0, line: 1 },
      { section: 1, line: -1 },
      { section: 1, line: 0 },
      null,
    ]);
    expect(rowOf(s.sections, 1, 0)).toBe(4);
  });
});
