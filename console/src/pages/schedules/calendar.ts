// The calendar's date logic, free of React: plain dates (a day with no
// zone), wall times of an instant in an IANA zone and back, the days a
// month, week or day view shows and the range of instants it asks the api
// for, and where fires and window openings land on those days.

/** A day on the calendar, with no time zone: month 1–12. */
export interface Day {
  y: number;
  m: number;
  d: number;
}

/** A wall-clock time in some zone. */
export interface Wall extends Day {
  h: number;
  mi: number;
  s: number;
}

export type View = 'month' | 'week' | 'day';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** `2026-03-08`: the key of a day, sortable as text. */
export function dayKey(c: Day): string {
  return `${String(c.y).padStart(4, '0')}-${String(c.m).padStart(2, '0')}-${String(c.d).padStart(2, '0')}`;
}

/** The day of a `YYYY-MM-DD` key, or null when it is not one. */
export function parseDay(key: string | null | undefined): Day | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key ?? '');
  if (!m) return null;
  const c = { y: Number(m[1]), m: Number(m[2]), d: Number(m[3]) };
  const back = addDays(c, 0);
  return back.y === c.y && back.m === c.m && back.d === c.d ? c : null;
}

function fromUtc(ms: number): Day {
  const t = new Date(ms);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

/** `c` moved by `n` days (any sign). */
export function addDays(c: Day, n: number): Day {
  return fromUtc(Date.UTC(c.y, c.m - 1, c.d + n));
}

/** `c` moved by `n` months; the day is kept where it exists (31 Jan + 1 → 28/29 Feb). */
export function addMonths(c: Day, n: number): Day {
  const first = fromUtc(Date.UTC(c.y, c.m - 1 + n, 1));
  return { ...first, d: Math.min(c.d, daysInMonth(first.y, first.m)) };
}

export function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export function isoWeekday(c: Day): number {
  const w = new Date(Date.UTC(c.y, c.m - 1, c.d)).getUTCDay();
  return w === 0 ? 7 : w;
}

/** Whole days from `a` to `b`. */
export function daysBetween(a: Day, b: Day): number {
  return Math.round((Date.UTC(b.y, b.m - 1, b.d) - Date.UTC(a.y, a.m - 1, a.d)) / (24 * HOUR));
}

/** The first day of the week holding `c`; weeks start on ISO weekday `weekStart` (1 = Monday). */
export function startOfWeek(c: Day, weekStart = 1): Day {
  return addDays(c, -((isoWeekday(c) - weekStart + 7) % 7));
}

/** A month as whole weeks: rows of seven days, the first holding the 1st,
 * the last holding the month's last day (days of the months around included). */
export function monthGrid(y: number, m: number, weekStart = 1): Day[][] {
  const first = { y, m, d: 1 };
  const last = { y, m, d: daysInMonth(y, m) };
  const weeks: Day[][] = [];
  for (let start = startOfWeek(first, weekStart); daysBetween(start, last) >= 0; start = addDays(start, 7)) {
    weeks.push(Array.from({ length: 7 }, (_, i) => addDays(start, i)));
  }
  return weeks;
}

/** The range to ask for: a view's, from now on (the calendar shows upcoming
 * fires; earlier ones are history, on each schedule's page). `null` when the
 * whole view is past. Now is taken to the minute, so the range stays put. */
export function upcoming(range: { from: number; to: number }, now: number): { from: number; to: number } | null {
  const from = Math.max(range.from, Math.floor(now / MINUTE) * MINUTE);
  return from < range.to ? { from, to: range.to } : null;
}

/** The days a view shows (a month view: the month's own days). */
export function viewDays(view: View, anchor: Day, weekStart = 1): Day[] {
  if (view === 'day') return [anchor];
  if (view === 'week') {
    const s = startOfWeek(anchor, weekStart);
    return Array.from({ length: 7 }, (_, i) => addDays(s, i));
  }
  return Array.from({ length: daysInMonth(anchor.y, anchor.m) }, (_, i) => ({ y: anchor.y, m: anchor.m, d: i + 1 }));
}

/** The anchor one view earlier (`dir` −1) or later (+1). */
export function shiftView(view: View, anchor: Day, dir: number): Day {
  if (view === 'month') return addMonths(anchor, dir);
  return addDays(anchor, view === 'week' ? 7 * dir : dir);
}

const formats = new Map<string, Intl.DateTimeFormat>();

function wallFormat(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, f);
  }
  return f;
}

/** The wall-clock time of instant `ms` in `zone`. */
export function wallOf(ms: number, zone: string): Wall {
  const parts: Record<string, number> = {};
  for (const p of wallFormat(zone).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return { y: parts.year ?? 0, m: parts.month ?? 0, d: parts.day ?? 0, h: (parts.hour ?? 0) % 24, mi: parts.minute ?? 0, s: parts.second ?? 0 };
}

/** The day instant `ms` falls on in `zone`. */
export function dayOf(ms: number, zone: string): Day {
  const w = wallOf(ms, zone);
  return { y: w.y, m: w.m, d: w.d };
}

/** The zone's offset from UTC at instant `ms`, in milliseconds. */
export function offsetAt(ms: number, zone: string): number {
  const w = wallOf(ms, zone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

function sameWall(ms: number, zone: string, want: number): boolean {
  const w = wallOf(ms, zone);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) === want;
}

/** The instant of wall time `c` `h:mi` in `zone`. A repeated (fall-back)
 * time gives its first instant; a time in a (spring-forward) gap gives the
 * first instant after the gap, as the scheduler's default `shift` does. */
export function instantOf(c: Day, h: number, mi: number, zone: string): number {
  const want = Date.UTC(c.y, c.m - 1, c.d, h, mi);
  const before = want - offsetAt(want - 12 * HOUR, zone);
  const after = want - offsetAt(want + 12 * HOUR, zone);
  const ok = [before, after].filter((t) => sameWall(t, zone, want));
  if (ok.length > 0) return Math.min(...ok);
  // In a gap: the change lies between the two candidates; find it to the minute.
  let lo = Math.min(before, after);
  let hi = Math.max(before, after);
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (offsetAt(mid, zone) === offsetAt(lo, zone)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The instants `[from, to)` of day `c` in `zone` (23 or 25 hours on a change). */
export function dayBounds(c: Day, zone: string): { from: number; to: number } {
  return { from: instantOf(c, 0, 0, zone), to: instantOf(addDays(c, 1), 0, 0, zone) };
}

/** What a view asks the api for: its days and `[from, to)` covering them. */
export function viewRange(view: View, anchor: Day, zone: string, weekStart = 1): { days: Day[]; from: number; to: number } {
  const days = viewDays(view, anchor, weekStart);
  const first = days[0] ?? anchor;
  const last = days[days.length - 1] ?? anchor;
  return { days, from: dayBounds(first, zone).from, to: dayBounds(last, zone).to };
}

/** Whether a zone name is one this browser knows. */
export function isZone(zone: string): boolean {
  try {
    wallFormat(zone);
    return true;
  } catch {
    return false;
  }
}

/** The browser's own zone. */
export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Every IANA zone this browser knows, UTC first. */
export function allZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = intl.supportedValuesOf?.('timeZone') ?? [];
  return ['UTC', ...list.filter((z) => z !== 'UTC')];
}

/** `14:05` of instant `ms` in `zone`. */
export function clock(ms: number, zone: string): string {
  const w = wallOf(ms, zone);
  return `${String(w.h).padStart(2, '0')}:${String(w.mi).padStart(2, '0')}`;
}

/** A fire of the calendar (the api's `CalendarItem`). */
export interface Fire {
  schedule_id: string;
  schedule_name: string;
  job_id: string;
  at: string;
  local: string;
  kind: string;
}

/** An opening of a window (the api's `WindowCalendarItem`). */
export interface Opening {
  window_id: string;
  window_name: string;
  opens_at: string;
  closes_at: string;
}

/** What the calendar knows of a window besides its openings. */
export interface WindowInfo {
  id: string;
  fire_policy: string;
  scope: { global?: boolean; jobs?: string[]; groups?: string[]; targets?: string[] };
}

/** How a fire will go, as far as the calendar can tell. */
export type FireFate =
  | { kind: 'fires' }
  | { kind: 'skipped_gap' }
  /** Its schedule is paused: nothing fires until it is resumed. */
  | { kind: 'paused' }
  | { kind: 'window'; policy: 'skip' | 'defer'; window: string }
  /** Inside a window whose scope names targets or groups: it depends on the schedule's targets. */
  | { kind: 'maybe_window'; window: string };

/** A fire's fate: skipped by a daylight-saving gap (the api says so), or
 * inside an opening of a window that covers its job (skipped or deferred
 * by the window's fire policy). */
export function fateOf(fire: Fire, openings: Opening[], windows: Map<string, WindowInfo>, paused: Set<string> = new Set()): FireFate {
  if (paused.has(fire.schedule_id)) return { kind: 'paused' };
  if (fire.kind === 'skipped_gap') return { kind: 'skipped_gap' };
  const t = Date.parse(fire.at);
  let maybe: string | null = null;
  for (const o of openings) {
    if (!(Date.parse(o.opens_at) <= t && t < Date.parse(o.closes_at))) continue;
    const w = windows.get(o.window_id);
    if (!w) continue;
    if (w.scope.global || (w.scope.jobs ?? []).includes(fire.job_id)) {
      return { kind: 'window', policy: w.fire_policy === 'defer' ? 'defer' : 'skip', window: o.window_name };
    }
    if ((w.scope.groups ?? []).length > 0 || (w.scope.targets ?? []).length > 0) maybe ??= o.window_name;
  }
  return maybe ? { kind: 'maybe_window', window: maybe } : { kind: 'fires' };
}

/** The fires of one schedule within one bucket (a day, or an hour of a day). */
export interface FireGroup {
  schedule_id: string;
  schedule_name: string;
  fires: Fire[];
}

/** Fires by the day they fall on in `zone` (`dayKey`), each day's in time order. */
export function firesByDay(fires: Fire[], zone: string): Map<string, Fire[]> {
  const out = new Map<string, Fire[]>();
  const sorted = [...fires].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  for (const f of sorted) {
    const k = dayKey(dayOf(Date.parse(f.at), zone));
    const list = out.get(k);
    if (list) list.push(f);
    else out.set(k, [f]);
  }
  return out;
}

/** Fires by the hour (0–23) of their wall time in `zone`. */
export function firesByHour(fires: Fire[], zone: string): Map<number, Fire[]> {
  const out = new Map<number, Fire[]>();
  for (const f of fires) {
    const h = wallOf(Date.parse(f.at), zone).h;
    const list = out.get(h);
    if (list) list.push(f);
    else out.set(h, [f]);
  }
  return out;
}

/** Fires grouped by schedule, in order of each schedule's first fire. */
export function groupBySchedule(fires: Fire[]): FireGroup[] {
  const groups = new Map<string, FireGroup>();
  for (const f of fires) {
    const g = groups.get(f.schedule_id);
    if (g) g.fires.push(f);
    else groups.set(f.schedule_id, { schedule_id: f.schedule_id, schedule_name: f.schedule_name, fires: [f] });
  }
  return [...groups.values()];
}

/** An opening's part within one day: fractions 0–1 of the day's real length. */
export interface Span {
  window_id: string;
  window_name: string;
  start: number;
  end: number;
  opens_at: string;
  closes_at: string;
}

/** The openings that overlap `day` in `zone`, clipped to it. */
export function spansOn(day: Day, openings: Opening[], zone: string): Span[] {
  const { from, to } = dayBounds(day, zone);
  const len = to - from;
  const out: Span[] = [];
  for (const o of openings) {
    const a = Math.max(Date.parse(o.opens_at), from);
    const b = Math.min(Date.parse(o.closes_at), to);
    if (b <= a) continue;
    out.push({ window_id: o.window_id, window_name: o.window_name, start: (a - from) / len, end: (b - from) / len, opens_at: o.opens_at, closes_at: o.closes_at });
  }
  return out;
}

/** Whether an opening overlaps the hour `h` (wall time) of `day` in `zone`. */
export function hourInWindow(day: Day, h: number, openings: Opening[], zone: string): Opening[] {
  const a = instantOf(day, h, 0, zone);
  const b = h === 23 ? dayBounds(day, zone).to : instantOf(day, h + 1, 0, zone);
  return openings.filter((o) => Date.parse(o.opens_at) < b && Date.parse(o.closes_at) > a);
}

/** The day a key in the grid moves focus to. */
export function moveFocus(view: View, day: Day, key: string): Day | null {
  switch (key) {
    case 'ArrowLeft':
      return addDays(day, -1);
    case 'ArrowRight':
      return addDays(day, 1);
    case 'ArrowUp':
      return view === 'month' ? addDays(day, -7) : null;
    case 'ArrowDown':
      return view === 'month' ? addDays(day, 7) : null;
    case 'Home':
      return view === 'month' ? { ...day, d: 1 } : startOfWeek(day);
    case 'End':
      return view === 'month' ? { ...day, d: daysInMonth(day.y, day.m) } : addDays(startOfWeek(day), 6);
    case 'PageUp':
      return view === 'month' ? addMonths(day, -1) : addDays(day, -7);
    case 'PageDown':
      return view === 'month' ? addMonths(day, 1) : addDays(day, 7);
    default:
      return null;
  }
}

/** Same day? */
export function sameDay(a: Day, b: Day): boolean {
  return a.y === b.y && a.m === b.m && a.d === b.d;
}

/** `Monday 8 March 2026` (the day's own name, whatever zone is shown). */
export function dayLabel(c: Day, opts: Intl.DateTimeFormatOptions = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }): string {
  return new Date(Date.UTC(c.y, c.m - 1, c.d, 12)).toLocaleDateString(undefined, { ...opts, timeZone: 'UTC' });
}

/** A view's title: `March 2026`, `2 – 8 March 2026`, `Sunday 8 March 2026`. */
export function viewTitle(view: View, anchor: Day, weekStart = 1): string {
  if (view === 'month') return dayLabel(anchor, { month: 'long', year: 'numeric' });
  if (view === 'day') return dayLabel(anchor);
  const days = viewDays('week', anchor, weekStart);
  const a = days[0] ?? anchor;
  const b = days[6] ?? anchor;
  return `${dayLabel(a, { day: 'numeric', month: 'short' })} – ${dayLabel(b, { day: 'numeric', month: 'short', year: 'numeric' })}`;
}
