import { describe, expect, it } from 'vitest';
import { MIN_WIDTH, layoutTimeline, ticks } from './timeline';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const T0 = Date.UTC(2026, 0, 1);

describe('layoutTimeline', () => {
  it('places bars on a shared axis, one row per target', () => {
    const l = layoutTimeline(
      [
        { step_id: 'a', target_id: 'x', attempt: 1, status: 'succeeded', started_at: at(0), finished_at: at(10) },
        { step_id: 'b', target_id: 'x', attempt: 1, status: 'failed', started_at: at(10), finished_at: at(20) },
        { step_id: 'a', target_id: 'y', attempt: 1, status: 'succeeded', started_at: at(5), finished_at: at(15) },
        { step_id: 'c', target_id: 'y', attempt: 1, status: 'pending' },
      ],
      T0 + 100_000,
    );
    expect(l.start).toBe(T0);
    expect(l.end).toBe(T0 + 20_000);
    expect(l.rows.map((r) => r.targetId)).toEqual(['x', 'y']);
    expect(l.rows[0]!.bars.map((b) => [b.left, b.width])).toEqual([
      [0, 50],
      [50, 50],
    ]);
    expect(l.rows[1]!.bars.map((b) => [b.left, b.width, b.ms])).toEqual([[25, 50, 10_000]]);
    expect(l.rows[1]!.pending.map((s) => s.step_id)).toEqual(['c']);
  });

  it('runs a running step to now and keeps instant steps visible', () => {
    const l = layoutTimeline(
      [
        { step_id: 'a', attempt: 1, status: 'succeeded', started_at: at(0), finished_at: at(0) },
        { step_id: 'b', attempt: 1, status: 'running', started_at: at(0) },
      ],
      T0 + 4000,
    );
    expect(l.end).toBe(T0 + 4000);
    expect(l.rows[0]!.targetId).toBeNull();
    expect(l.rows[0]!.bars[0]!.width).toBe(MIN_WIDTH);
    expect(l.rows[0]!.bars[1]!.width).toBe(100);
    expect(l.rows[0]!.bars[1]!.ms).toBe(4000);
  });

  it('copes with nothing started and gives ticks', () => {
    const l = layoutTimeline([{ step_id: 'a', attempt: 1, status: 'pending' }], T0);
    expect(l.rows[0]!.bars).toEqual([]);
    expect(ticks(l)).toEqual([{ at: T0, pct: 0 }]);
    const m = layoutTimeline([{ step_id: 'a', attempt: 1, status: 'succeeded', started_at: at(0), finished_at: at(8) }], T0);
    expect(ticks(m, 3).map((t) => t.pct)).toEqual([0, 50, 100]);
  });
});
