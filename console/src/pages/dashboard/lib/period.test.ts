import { describe, expect, it } from 'vitest';
import { feed } from './activity';
import { fillSeries, percent, periodOf, statusesIn } from './period';

describe('periods', () => {
  it('falls back to the first', () => {
    expect(periodOf('7d').hours).toBe(168);
    expect(periodOf('nonsense').id).toBe('24h');
  });
});

describe('fillSeries', () => {
  it('fills the hours without runs with zeros', () => {
    const rows = fillSeries(
      [{ start: '2026-01-01T01:00:00Z', total: 3, by_status: { succeeded: 2, failed: 1 } }],
      '2026-01-01T00:30:00Z',
      '2026-01-01T03:00:00Z',
      'hour',
    );
    expect(rows.map((r) => [new Date(r.at).toISOString().slice(11, 13), r.total])).toEqual([
      ['00', 0],
      ['01', 3],
      ['02', 0],
    ]);
    expect(rows[1]).toMatchObject({ succeeded: 2, failed: 1 });
  });

  it('buckets by UTC day', () => {
    expect(fillSeries([], '2026-01-01T12:00:00Z', '2026-01-04T00:00:00Z', 'day')).toHaveLength(3);
  });
});

describe('statusesIn and percent', () => {
  it('stacks known statuses first', () => {
    expect(statusesIn([{ start: '', total: 1, by_status: { zeta: 1, failed: 1, succeeded: 1 } }])).toEqual(['succeeded', 'failed', 'zeta']);
    expect(percent(0.875)).toBe('87.5%');
    expect(percent(1)).toBe('100%');
    expect(percent(null)).toBe('—');
  });
});

describe('feed', () => {
  it('lists what happened, newest first', () => {
    const f = feed([
      { id: 'a', job_name: 'A', status: 'succeeded', created_at: '2026-01-01T00:00:00Z', started_at: '2026-01-01T00:00:01Z', finished_at: '2026-01-01T00:00:05Z' },
      { id: 'b', job_name: 'B', status: 'queued', created_at: '2026-01-01T00:00:03Z' },
    ]);
    expect(f.map((h) => h.key)).toEqual(['a-f', 'b-a', 'a-s']);
    expect(feed([], 5)).toEqual([]);
  });
});
