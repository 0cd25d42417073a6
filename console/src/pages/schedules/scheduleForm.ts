// The schedule form: what the editor shows, the `POST`/`PATCH` body it
// sends, and the api's problems placed next to the field they name.
import type { FieldError, Schemas } from '../../api/types';
import { initialValues, parameterErrors, toParameters, type FormValues, type ParamSpec } from '../jobs/params';
import { instantOf, wallOf } from './calendar';

type Schedule = Schemas['ScheduleView'];
type Body = Schemas['ScheduleBody'];

export interface ScheduleForm {
  name: string;
  description: string;
  job_id: string;
  cron: string;
  time_zone: string;
  enabled: boolean;
  gap: 'shift' | 'skip';
  overlap: 'first' | 'second' | 'both';
  misfire_mode: 'skip' | 'run_once' | 'run_all';
  /** Seconds, as typed. */
  misfire_max_age: string;
  /** `YYYY-MM-DDTHH:MM` wall time in `time_zone`, or empty. */
  start_at: string;
  end_at: string;
  params: FormValues;
  /** Targets instead of the job's. */
  own_targets: boolean;
  tags: string;
  groups: string[];
  targets: string[];
}

/** `2026-03-08T02:30` of an instant, in `zone` (for a datetime-local input). */
export function toLocalInput(iso: string | null | undefined, zone: string): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const w = wallOf(t, zone);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${String(w.y).padStart(4, '0')}-${p(w.m)}-${p(w.d)}T${p(w.h)}:${p(w.mi)}`;
}

/** The instant (RFC 3339, UTC) of a datetime-local value read in `zone`; null when it is not one. */
export function fromLocalInput(text: string, zone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  return new Date(instantOf({ y, m: mo, d }, h, mi, zone)).toISOString();
}

/** The form of a stored schedule, or of a new one in `zone`. */
export function formOf(s: Schedule | undefined, specs: Record<string, ParamSpec>, zone: string): ScheduleForm {
  const tz = s?.time_zone ?? zone;
  const params = initialValues(specs);
  for (const [k, v] of Object.entries(s?.parameters ?? {})) {
    if (v === null || v === undefined) continue;
    params[k] = typeof v === 'boolean' ? v : Array.isArray(v) ? v.map(String) : String(v as string | number);
  }
  return {
    name: s?.name ?? '',
    description: s?.description ?? '',
    job_id: s?.job_id ?? '',
    cron: s?.cron ?? '',
    time_zone: tz,
    enabled: s?.enabled ?? true,
    gap: s?.dst.gap ?? 'shift',
    overlap: s?.dst.overlap ?? 'first',
    misfire_mode: s?.misfire.mode ?? 'run_once',
    misfire_max_age: String(s?.misfire.max_age_secs ?? 3600),
    start_at: toLocalInput(s?.start_at, tz),
    end_at: toLocalInput(s?.end_at, tz),
    params,
    own_targets: Boolean(s?.targets),
    tags: (s?.targets?.tags ?? []).join(', '),
    groups: s?.targets?.groups ?? [],
    targets: s?.targets?.targets ?? [],
  };
}

/** A body, or the problems found before asking the api (by field). */
export type Built = { ok: true; body: Body } | { ok: false; errors: Record<string, string> };

/** The whole body of the form. `original` lends what the form does not edit (retry, misfire limits). */
export function bodyOf(f: ScheduleForm, specs: Record<string, ParamSpec>, original?: Schedule): Built {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'A name is required.';
  if (!f.job_id) errors.job_id = 'Choose a job.';
  if (!f.cron.trim()) errors.cron = 'Enter a cron expression.';
  const maxAge = Number(f.misfire_max_age);
  if (!/^\d+$/.test(f.misfire_max_age.trim()) || maxAge < 1) errors.misfire = 'Whole seconds, at least 1.';
  const start = f.start_at ? fromLocalInput(f.start_at, f.time_zone) : null;
  const end = f.end_at ? fromLocalInput(f.end_at, f.time_zone) : null;
  if (f.start_at && !start) errors.start_at = 'Not a date and time.';
  if (f.end_at && !end) errors.end_at = 'Not a date and time.';
  const { parameters, errors: paramErrors } = toParameters(specs, f.params);
  for (const [k, v] of Object.entries(paramErrors)) errors[`parameters.${k}`] = v;
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const tags = f.tags
    .split(/[,\s]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    ok: true,
    body: {
      name: f.name.trim(),
      description: f.description.trim(),
      job_id: f.job_id,
      job_name: null,
      cron: f.cron.trim().replace(/\s+/g, ' '),
      time_zone: f.time_zone,
      enabled: f.enabled,
      dst: { gap: f.gap, overlap: f.overlap },
      misfire: { max_count: 10, stagger_ms: 1000, ...(original?.misfire ?? {}), mode: f.misfire_mode, max_age_secs: maxAge },
      start_at: start,
      end_at: end,
      parameters,
      targets: f.own_targets ? { tags, groups: f.groups, targets: f.targets } : null,
      retry: original?.retry ?? null,
    },
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The `PATCH` of an edit: only the fields that changed, so stored secret
 * parameter values stay unless the parameters themselves were changed. */
export function patchOf(initial: ScheduleForm, now: ScheduleForm, specs: Record<string, ParamSpec>, original: Schedule): Built {
  const built = bodyOf(now, specs, original);
  if (!built.ok) return built;
  const before = bodyOf(initial, specs, original);
  const patch: Record<string, unknown> = {};
  const b = built.body as Record<string, unknown>;
  const a = before.ok ? (before.body as Record<string, unknown>) : {};
  const paramsChanged = !same(initial.params, now.params);
  for (const [k, v] of Object.entries(b)) {
    if (k === 'parameters') {
      if (paramsChanged) patch[k] = v;
    } else if (!same(a[k], v)) {
      patch[k] = v;
    }
  }
  // The start and end are read in the zone: a new zone moves them.
  if ('time_zone' in patch) {
    patch.start_at = b.start_at;
    patch.end_at = b.end_at;
  }
  return { ok: true, body: patch as Body };
}

/** The api's problems by form field: `cron`, `time_zone`, `parameters.<name>`…; the rest stay for the alert. */
export function problemsByField(errors: FieldError[]): { byField: Record<string, string>; rest: FieldError[] } {
  const { byName, rest } = parameterErrors(errors);
  const byField: Record<string, string> = {};
  for (const [k, v] of Object.entries(byName)) byField[`parameters.${k}`] = v;
  const left: FieldError[] = [];
  const known = ['name', 'description', 'job_id', 'job_name', 'cron', 'time_zone', 'start_at', 'end_at', 'misfire', 'dst', 'targets', 'parameters'];
  for (const e of rest) {
    const top = /^\/([^/]+)/.exec(e.path)?.[1] ?? '';
    const field = top === 'job_name' ? 'job_id' : top;
    if (known.includes(field)) byField[field] = byField[field] ? `${byField[field]} ${e.message}` : e.message;
    else left.push(e);
  }
  return { byField, rest: left };
}

/** What `POST /api/v1/schedules/next` needs to preview the form's fires as
 * typed; `null` while there is no expression or a bound does not read. */
export function previewOf(f: ScheduleForm, count = 5): Schemas['NextPreviewBody'] | null {
  const cron = f.cron.trim();
  if (!cron) return null;
  const start = f.start_at ? fromLocalInput(f.start_at, f.time_zone) : null;
  const end = f.end_at ? fromLocalInput(f.end_at, f.time_zone) : null;
  if ((f.start_at && !start) || (f.end_at && !end)) return null;
  return { cron, time_zone: f.time_zone, dst: { gap: f.gap, overlap: f.overlap }, start_at: start, end_at: end, count };
}
