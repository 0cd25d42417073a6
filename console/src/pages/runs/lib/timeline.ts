// Timeline layout: one row per target, one bar per step attempt, placed on
// a shared time axis in percent.

/** What the layout needs of a step (a `StepView`). */
export interface StepTiming {
  step_id: string;
  target_id?: string | null;
  attempt: number;
  status: string;
  started_at?: string | null;
  finished_at?: string | null;
  exit_code?: number | null;
  error?: string | null;
}

/** One bar. */
export interface Bar {
  step: StepTiming;
  /** Percent of the axis from its start. */
  left: number;
  /** Percent of the axis; at least `MIN_WIDTH`. */
  width: number;
  /** Milliseconds, to now when still running. */
  ms: number;
}

/** One row. */
export interface Row {
  targetId: string | null;
  bars: Bar[];
  /** Steps that have not started (no bar). */
  pending: StepTiming[];
}

export interface Layout {
  start: number;
  end: number;
  rows: Row[];
}

/** Narrowest bar, so an instant step stays visible. */
export const MIN_WIDTH = 0.5;

/** Lays the steps out; `now` ends the bars of running steps. */
export function layoutTimeline(steps: StepTiming[], now: number): Layout {
  const t = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);
  let start = Infinity;
  let end = -Infinity;
  for (const s of steps) {
    const a = t(s.started_at);
    if (!Number.isFinite(a)) continue;
    const b = Number.isFinite(t(s.finished_at)) ? t(s.finished_at) : now;
    start = Math.min(start, a);
    end = Math.max(end, b, a);
  }
  if (!Number.isFinite(start)) {
    start = now;
    end = now;
  }
  const span = Math.max(end - start, 1);
  const rows: Row[] = [];
  const byTarget = new Map<string, Row>();
  for (const s of steps) {
    const key = s.target_id ?? '';
    let row = byTarget.get(key);
    if (!row) {
      row = { targetId: s.target_id ?? null, bars: [], pending: [] };
      byTarget.set(key, row);
      rows.push(row);
    }
    const a = t(s.started_at);
    if (!Number.isFinite(a)) {
      row.pending.push(s);
      continue;
    }
    const b = Number.isFinite(t(s.finished_at)) ? t(s.finished_at) : now;
    const left = ((a - start) / span) * 100;
    const width = Math.max(((Math.max(b, a) - a) / span) * 100, MIN_WIDTH);
    row.bars.push({ step: s, left: Math.min(left, 100 - MIN_WIDTH), width: Math.min(width, 100 - Math.min(left, 100 - MIN_WIDTH)), ms: Math.max(b - a, 0) });
  }
  return { start, end, rows };
}

/** Axis ticks: `count` evenly spaced instants with their percent. */
export function ticks(layout: Layout, count = 5): { at: number; pct: number }[] {
  const span = layout.end - layout.start;
  if (span <= 0) return [{ at: layout.start, pct: 0 }];
  return Array.from({ length: count }, (_, i) => ({ at: layout.start + (span * i) / (count - 1), pct: (i / (count - 1)) * 100 }));
}
