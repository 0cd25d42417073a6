import { describe, expect, it } from 'vitest';
import {
  addMonths,
  dayBounds,
  dayKey,
  dayOf,
  fateOf,
  firesByDay,
  firesByHour,
  groupBySchedule,
  hourInWindow,
  instantOf,
  isoWeekday,
  monthGrid,
  moveFocus,
  parseDay,
  shiftView,
  spansOn,
  startOfWeek,
  viewRange,
  wallOf,
  type Fire,
  type Opening,
  type WindowInfo,
  upcoming,
} from './calendar';

const iso = (ms: number) => new Date(ms).toISOString();

describe('plain days', () => {
  it('keys, parses and refuses days that do not exist', () => {
    expect(dayKey({ y: 2026, m: 3, d: 8 })).toBe('2026-03-08');
    expect(parseDay('2026-02-29')).toBeNull();
    expect(parseDay('2028-02-29')).toEqual({ y: 2028, m: 2, d: 29 });
    expect(parseDay('soon')).toBeNull();
  });

  it('knows weekdays and weeks starting on Monday or Sunday', () => {
    expect(isoWeekday({ y: 2026, m: 3, d: 8 })).toBe(7);
    expect(startOfWeek({ y: 2026, m: 3, d: 8 })).toEqual({ y: 2026, m: 3, d: 2 });
    expect(startOfWeek({ y: 2026, m: 3, d: 8 }, 7)).toEqual({ y: 2026, m: 3, d: 8 });
    expect(startOfWeek({ y: 2026, m: 1, d: 1 })).toEqual({ y: 2025, m: 12, d: 29 });
  });

  it('moves by months keeping the day where it exists', () => {
    expect(addMonths({ y: 2026, m: 1, d: 31 }, 1)).toEqual({ y: 2026, m: 2, d: 28 });
    expect(addMonths({ y: 2026, m: 12, d: 15 }, 1)).toEqual({ y: 2027, m: 1, d: 15 });
    expect(shiftView('week', { y: 2026, m: 3, d: 30 }, 1)).toEqual({ y: 2026, m: 4, d: 6 });
    expect(shiftView('day', { y: 2026, m: 3, d: 1 }, -1)).toEqual({ y: 2026, m: 2, d: 28 });
  });

  it('lays a month out in whole weeks', () => {
    const feb = monthGrid(2026, 2); // 1 Feb 2026 is a Sunday
    expect(feb).toHaveLength(5);
    expect(feb[0]?.[0]).toEqual({ y: 2026, m: 1, d: 26 });
    expect(feb[0]?.[6]).toEqual({ y: 2026, m: 2, d: 1 });
    expect(feb[4]?.[6]).toEqual({ y: 2026, m: 3, d: 1 });
    // February 2021 starts on a Monday and has exactly four weeks.
    expect(monthGrid(2021, 2)).toHaveLength(4);
    expect(monthGrid(2026, 8)).toHaveLength(6);
    expect(monthGrid(2026, 2, 7)[0]?.[0]).toEqual({ y: 2026, m: 2, d: 1 });
  });

  it('moves the focus with the keyboard', () => {
    const d = { y: 2026, m: 3, d: 31 };
    expect(moveFocus('month', d, 'ArrowDown')).toEqual({ y: 2026, m: 4, d: 7 });
    expect(moveFocus('month', d, 'Home')).toEqual({ y: 2026, m: 3, d: 1 });
    expect(moveFocus('month', d, 'PageDown')).toEqual({ y: 2026, m: 4, d: 30 });
    expect(moveFocus('week', d, 'End')).toEqual({ y: 2026, m: 4, d: 5 });
    expect(moveFocus('week', d, 'ArrowUp')).toBeNull();
    expect(moveFocus('day', d, 'x')).toBeNull();
  });
});

describe('zones', () => {
  it('reads wall times of an instant', () => {
    expect(wallOf(Date.parse('2026-03-08T07:30:00Z'), 'America/New_York')).toMatchObject({ y: 2026, m: 3, d: 8, h: 3, mi: 30 });
    expect(dayOf(Date.parse('2026-03-08T23:30:00Z'), 'Europe/Berlin')).toEqual({ y: 2026, m: 3, d: 9 });
    expect(dayOf(Date.parse('2026-03-08T23:30:00Z'), 'UTC')).toEqual({ y: 2026, m: 3, d: 8 });
  });

  it('finds the instant of a wall time, through gaps and overlaps', () => {
    const ny = 'America/New_York';
    expect(iso(instantOf({ y: 2026, m: 1, d: 15 }, 9, 0, ny))).toBe('2026-01-15T14:00:00.000Z');
    // 02:30 on 8 March does not exist: the first instant after the gap (03:00 EDT).
    expect(iso(instantOf({ y: 2026, m: 3, d: 8 }, 2, 30, ny))).toBe('2026-03-08T07:00:00.000Z');
    // 01:30 on 1 November happens twice: the first (EDT).
    expect(iso(instantOf({ y: 2026, m: 11, d: 1 }, 1, 30, ny))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(instantOf({ y: 2026, m: 7, d: 1 }, 0, 0, 'Asia/Kolkata'))).toBe('2026-06-30T18:30:00.000Z');
  });

  it('gives days of 23 and 25 hours on a change, and days starting after a midnight gap', () => {
    const ny = 'America/New_York';
    const spring = dayBounds({ y: 2026, m: 3, d: 8 }, ny);
    expect((spring.to - spring.from) / 3_600_000).toBe(23);
    const fall = dayBounds({ y: 2026, m: 11, d: 1 }, ny);
    expect((fall.to - fall.from) / 3_600_000).toBe(25);
    // Santiago moves 24:00 → 01:00 on 6 September 2026: that day begins at 01:00 (-03:00).
    expect(iso(dayBounds({ y: 2026, m: 9, d: 6 }, 'America/Santiago').from)).toBe('2026-09-06T04:00:00.000Z');
  });

  it('asks only for what is still to come', () => {
    const r = { from: Date.parse('2026-03-02T00:00:00Z'), to: Date.parse('2026-03-09T00:00:00Z') };
    expect(upcoming(r, Date.parse('2026-03-04T10:20:30Z'))).toEqual({ from: Date.parse('2026-03-04T10:20:00Z'), to: r.to });
    expect(upcoming(r, Date.parse('2026-03-01T00:00:00Z'))).toEqual(r);
    expect(upcoming(r, Date.parse('2026-03-09T00:00:00Z'))).toBeNull();
  });

  it('gives a view its range of instants', () => {
    const r = viewRange('month', { y: 2026, m: 2, d: 10 }, 'Europe/Berlin');
    expect(r.days).toHaveLength(28);
    expect(iso(r.from)).toBe('2026-01-31T23:00:00.000Z');
    expect(iso(r.to)).toBe('2026-02-28T23:00:00.000Z');
    const w = viewRange('week', { y: 2026, m: 3, d: 4 }, 'UTC');
    expect(iso(w.from)).toBe('2026-03-02T00:00:00.000Z');
    expect(iso(w.to)).toBe('2026-03-09T00:00:00.000Z');
  });
});

const fire = (at: string, schedule = 's1', kind = 'regular', job = 'j1'): Fire => ({
  schedule_id: schedule,
  schedule_name: schedule.toUpperCase(),
  job_id: job,
  at,
  local: at,
  kind,
});

describe('placing fires and windows', () => {
  it('puts fires on the day and hour of the zone shown', () => {
    const fires = [fire('2026-03-08T23:30:00Z'), fire('2026-03-08T22:10:00Z', 's2'), fire('2026-03-08T23:45:00Z')];
    const utc = firesByDay(fires, 'UTC');
    expect([...utc.keys()]).toEqual(['2026-03-08']);
    expect(utc.get('2026-03-08')?.map((f) => f.at)).toEqual(['2026-03-08T22:10:00Z', '2026-03-08T23:30:00Z', '2026-03-08T23:45:00Z']);
    const berlin = firesByDay(fires, 'Europe/Berlin');
    expect([...berlin.keys()].sort()).toEqual(['2026-03-08', '2026-03-09']);
    const hours = firesByHour(fires, 'UTC');
    expect(hours.get(23)).toHaveLength(2);
    expect(groupBySchedule(fires).map((g) => [g.schedule_id, g.fires.length])).toEqual([
      ['s1', 2],
      ['s2', 1],
    ]);
  });

  const openings: Opening[] = [
    { window_id: 'w1', window_name: 'Patch night', opens_at: '2026-03-08T22:00:00Z', closes_at: '2026-03-09T02:00:00Z' },
    { window_id: 'w2', window_name: 'Edge', opens_at: '2026-03-08T10:00:00Z', closes_at: '2026-03-08T11:00:00Z' },
  ];

  it('clips openings to a day as fractions of its length', () => {
    const spans = spansOn({ y: 2026, m: 3, d: 8 }, openings, 'UTC');
    expect(spans.map((s) => [s.window_id, s.start, s.end])).toEqual([
      ['w1', 22 / 24, 1],
      ['w2', 10 / 24, 11 / 24],
    ]);
    expect(spansOn({ y: 2026, m: 3, d: 9 }, openings, 'UTC').map((s) => [s.start, s.end])).toEqual([[0, 2 / 24]]);
    expect(spansOn({ y: 2026, m: 3, d: 10 }, openings, 'UTC')).toEqual([]);
    expect(hourInWindow({ y: 2026, m: 3, d: 8 }, 10, openings, 'UTC').map((o) => o.window_id)).toEqual(['w2']);
    expect(hourInWindow({ y: 2026, m: 3, d: 8 }, 11, openings, 'UTC')).toEqual([]);
  });

  it('tells which fires a window skips or defers', () => {
    const windows = new Map<string, WindowInfo>([
      ['w1', { id: 'w1', fire_policy: 'skip', scope: { global: true } }],
      ['w2', { id: 'w2', fire_policy: 'defer', scope: { jobs: ['j2'], groups: ['g1'] } }],
    ]);
    expect(fateOf(fire('2026-03-08T23:00:00Z'), openings, windows)).toEqual({ kind: 'window', policy: 'skip', window: 'Patch night' });
    expect(fateOf(fire('2026-03-08T10:30:00Z', 's1', 'regular', 'j2'), openings, windows)).toEqual({ kind: 'window', policy: 'defer', window: 'Edge' });
    expect(fateOf(fire('2026-03-08T10:30:00Z'), openings, windows)).toEqual({ kind: 'maybe_window', window: 'Edge' });
    // An opening's end is not inside it.
    expect(fateOf(fire('2026-03-08T11:00:00Z'), openings, windows)).toEqual({ kind: 'fires' });
    expect(fateOf(fire('2026-03-08T12:00:00Z', 's1', 'skipped_gap'), openings, windows)).toEqual({ kind: 'skipped_gap' });
    expect(fateOf(fire('2026-03-08T23:00:00Z'), openings, windows, new Set(['s1']))).toEqual({ kind: 'paused' });
  });
});
