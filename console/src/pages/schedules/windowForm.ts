// The maintenance-window form and its body; a window's timing and scope in words.
import type { Schemas } from '../../api/types';
import { fromLocalInput, toLocalInput } from './scheduleForm';
import { shortId } from '../../lib/format';

type Window = Schemas['WindowView'];
type Body = Schemas['WindowBody'];
type Timing = Schemas['TimingBody'];

export const ISO_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export interface WindowForm {
  name: string;
  description: string;
  enabled: boolean;
  kind: 'once' | 'weekly';
  /** `once`: datetime-local values read in `time_zone`. */
  start: string;
  end: string;
  /** `weekly`: ISO weekdays 1–7. */
  days: number[];
  start_time: string;
  duration_mins: string;
  time_zone: string;
  global: boolean;
  jobs: string[];
  groups: string[];
  targets: string[];
  fire_policy: 'skip' | 'defer';
  target_policy: 'exclude' | 'include';
}

export function windowFormOf(w: Window | undefined, zone: string): WindowForm {
  const t = w?.timing;
  const tz = t?.kind === 'weekly' ? (t.time_zone ?? 'UTC') : zone;
  return {
    name: w?.name ?? '',
    description: w?.description ?? '',
    enabled: w?.enabled ?? true,
    kind: t?.kind ?? 'weekly',
    start: t?.kind === 'once' ? toLocalInput(t.start, tz) : '',
    end: t?.kind === 'once' ? toLocalInput(t.end, tz) : '',
    days: t?.kind === 'weekly' ? t.days : [6, 7],
    start_time: t?.kind === 'weekly' ? t.start_time : '02:00',
    duration_mins: t?.kind === 'weekly' ? String(t.duration_mins) : '120',
    time_zone: tz,
    global: w?.scope.global ?? false,
    jobs: w?.scope.jobs ?? [],
    groups: w?.scope.groups ?? [],
    targets: w?.scope.targets ?? [],
    fire_policy: w?.fire_policy ?? 'skip',
    target_policy: w?.target_policy ?? 'exclude',
  };
}

export type BuiltWindow = { ok: true; body: Body } | { ok: false; errors: Record<string, string> };

export function windowBodyOf(f: WindowForm): BuiltWindow {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'A name is required.';
  let timing: Timing | null = null;
  if (f.kind === 'once') {
    const start = fromLocalInput(f.start, f.time_zone);
    const end = fromLocalInput(f.end, f.time_zone);
    if (!start) errors.start = 'When does it open?';
    if (!end) errors.end = 'When does it close?';
    if (start && end && Date.parse(end) <= Date.parse(start)) errors.end = 'It must close after it opens.';
    if (start && end) timing = { kind: 'once', start, end };
  } else {
    const mins = Number(f.duration_mins);
    if (f.days.length === 0) errors.days = 'Choose at least one day.';
    if (!/^\d{2}:\d{2}$/.test(f.start_time)) errors.start_time = 'A time, HH:MM.';
    if (!/^\d+$/.test(f.duration_mins.trim()) || mins < 1 || mins > 10080) errors.duration_mins = '1 to 10080 minutes.';
    timing = { kind: 'weekly', days: [...f.days].sort((a, b) => a - b), start_time: f.start_time, duration_mins: mins, time_zone: f.time_zone };
  }
  if (!f.global && f.jobs.length + f.groups.length + f.targets.length === 0) errors.scope = 'Cover everything, or choose jobs, groups or targets.';
  if (Object.keys(errors).length > 0 || !timing) return { ok: false, errors };
  return {
    ok: true,
    body: {
      name: f.name.trim(),
      description: f.description.trim(),
      enabled: f.enabled,
      timing,
      scope: f.global ? { global: true, jobs: [], groups: [], targets: [] } : { global: false, jobs: f.jobs, groups: f.groups, targets: f.targets },
      fire_policy: f.fire_policy,
      target_policy: f.target_policy,
    },
  };
}

/** `Sat, Sun 02:00 for 2h (Europe/Berlin)`, `once, 8 Mar 02:00 → 04:00`. */
export function timingText(t: Timing, fmt: (iso: string) => string): string {
  if (t.kind === 'once') return `once, ${fmt(t.start)} → ${fmt(t.end)}`;
  const days = t.days.length === 7 ? 'every day' : t.days.map((d) => ISO_DAYS[d - 1] ?? String(d)).join(', ');
  const h = Math.floor(t.duration_mins / 60);
  const m = t.duration_mins % 60;
  const len = h > 0 ? `${h}h${m ? ` ${m}m` : ''}` : `${m}m`;
  return `${days} ${t.start_time} for ${len} (${t.time_zone ?? 'UTC'})`;
}

/** What a window covers, in words, with names where known. */
export function scopeText(s: Schemas['WindowScope'], names: Map<string, string>): string {
  if (s.global) return 'everything';
  const part = (ids: string[] | undefined, what: string) => (ids?.length ? `${what} ${ids.map((i) => names.get(i) ?? shortId(i)).join(', ')}` : '');
  return [part(s.jobs, 'jobs'), part(s.groups, 'groups'), part(s.targets, 'targets')].filter(Boolean).join('; ') || 'nothing';
}
