// The conditions of the rule form: the jobs (by id, tag or owner), the
// schedules, statuses and target groups, how long the run took, the hours
// of the day and the `run_slow` margin. Every field of `RuleConditions`
// is edited here, so a cleared field is cleared in the body too.
import type { Schemas } from '../../api/types';
import { splitList } from './channelForm';
import { DAYS, HHMM } from './prefsForm';

type Conditions = Schemas['RuleConditions'];

export interface ConditionsForm {
  job_ids: string[];
  job_tags: string;
  /** Users whose jobs the rule is for. */
  job_owner_ids: string[];
  schedule_ids: string[];
  statuses: string[];
  target_group_ids: string[];
  /** Seconds as typed (up to 3 decimals); the body holds ms. Empty: no bound. */
  min_duration: string;
  max_duration: string;
  /** `HH:MM`, or both empty: any time of day. */
  tod_from: string;
  tod_to: string;
  /** IANA zone of the hours. */
  tod_zone: string;
  /** `mon` … `sun`; none: every day. */
  tod_days: string[];
  /** Percent as typed; only with the `run_slow` trigger. Empty: the default (50). */
  slow_margin_pct: string;
}

/** Largest slow margin the form takes, in percent. */
export const MAX_SLOW_MARGIN = 1000;

/** Each id once, in the order first given. */
export const unique = (ids: readonly string[]): string[] => [...new Set(ids)];

/** `1500` ms → `1.5` (seconds); nothing → empty. */
const secondsText = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '' : String(ms / 1000));

/** The form's conditions of `c`; `zone` is offered when `c` has no hours. */
export function conditionsFormOf(c: Conditions | undefined, zone: string): ConditionsForm {
  const t = c?.time_of_day;
  return {
    job_ids: c?.job_ids ?? [],
    job_tags: (c?.job_tags ?? []).join(', '),
    job_owner_ids: unique(c?.job_owner_ids ?? []),
    schedule_ids: unique(c?.schedule_ids ?? []),
    statuses: c?.statuses ?? [],
    target_group_ids: c?.target_group_ids ?? [],
    min_duration: secondsText(c?.min_duration_ms),
    max_duration: secondsText(c?.max_duration_ms),
    tod_from: t?.from ?? '',
    tod_to: t?.to ?? '',
    tod_zone: t?.zone || zone,
    tod_days: t?.days ?? [],
    slow_margin_pct: c?.slow_margin_pct === null || c?.slow_margin_pct === undefined ? '' : String(c.slow_margin_pct),
  };
}

/** A whole number 1 to `max` from `text`; empty: `null`; else `null` and a problem at `key`. */
export const count = (text: string, errors: Record<string, string>, key: string, max: number): number | null => {
  const t = text.trim();
  if (!t) return null;
  const n = Number(t);
  if (!/^\d+$/.test(t) || n < 1 || n > max) {
    errors[key] = `A whole number, 1 to ${max}.`;
    return null;
  }
  return n;
};

const SECONDS = /^\d{1,9}(\.\d{1,3})?$/;

/** Milliseconds from seconds as typed; empty: `null`. */
function durationMs(text: string, errors: Record<string, string>, key: string): number | null {
  const t = text.trim();
  if (!t) return null;
  if (!SECONDS.test(t)) {
    errors[key] = 'A number of seconds, 0 or more (at most 3 decimals, e.g. 90 or 1.5).';
    return null;
  }
  return Math.round(Number(t) * 1000);
}

/** The hours, checked; both times empty (and no weekday): `null`, any time. */
function timeOfDay(f: ConditionsForm, errors: Record<string, string>): Schemas['TimeOfDay'] | null {
  const from = f.tod_from.trim();
  const to = f.tod_to.trim();
  if (!from && !to) {
    if (f.tod_days.length > 0) errors.tod_from = 'Weekdays go with hours: give “from” and “until”, or untick the days.';
    return null;
  }
  if (!from) errors.tod_from = 'Give the start as well.';
  else if (!HHMM.test(from)) errors.tod_from = 'A time, HH:MM.';
  if (!to) errors.tod_to = 'Give the end as well.';
  else if (!HHMM.test(to)) errors.tod_to = 'A time, HH:MM.';
  if (!f.tod_zone.trim()) errors.tod_zone = 'Choose a time zone.';
  if (errors.tod_from || errors.tod_to || errors.tod_zone) return null;
  return { from, to, zone: f.tod_zone.trim(), days: DAYS.filter((d) => f.tod_days.includes(d)) };
}

/** The body's conditions, its problems added to `errors`; `slow`: the rule listens for `run_slow`. */
export function conditionsOf(f: ConditionsForm, slow: boolean, errors: Record<string, string>): Conditions {
  const min = durationMs(f.min_duration, errors, 'min_duration');
  const max = durationMs(f.max_duration, errors, 'max_duration');
  if (min !== null && max !== null && min > max) errors.max_duration = `Must not be below the shortest (${f.min_duration.trim()} s).`;
  return {
    job_ids: f.job_ids,
    job_tags: splitList(f.job_tags),
    job_owner_ids: unique(f.job_owner_ids),
    schedule_ids: unique(f.schedule_ids),
    statuses: f.statuses as Schemas['RunStatus'][],
    target_group_ids: f.target_group_ids,
    min_duration_ms: min,
    max_duration_ms: max,
    time_of_day: timeOfDay(f, errors),
    slow_margin_pct: slow ? count(f.slow_margin_pct, errors, 'slow_margin_pct', MAX_SLOW_MARGIN) : null,
  };
}

/** The form field of an api problem under `/conditions` (`/conditions/time_of_day/zone` → `tod_zone`). */
export function conditionsKey(sub: string, leaf: string): string {
  if (sub === 'min_duration_ms') return 'min_duration';
  if (sub === 'max_duration_ms') return 'max_duration';
  if (sub === 'time_of_day') return leaf === 'to' || leaf === 'zone' || leaf === 'days' ? `tod_${leaf}` : 'tod_from';
  return sub || 'conditions';
}
