// My preferences: quiet hours, subscriptions and per-channel levels; the
// `PUT` body keeps what the form does not show.
import type { Schemas } from '../../api/types';
import { splitList } from './channelForm';

type Prefs = Schemas['PreferencesDoc'];
type Body = Schemas['PreferencesBody'];
export type Level = Schemas['Level'];

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface PrefsForm {
  time_zone: string;
  slack_user: string;
  quiet: boolean;
  quiet_from: string;
  quiet_to: string;
  quiet_days: string[];
  quiet_mode: 'digest' | 'drop';
  quiet_hours_off: boolean;
  own_runs: boolean;
  job_ids: string[];
  tags: string;
  sub_channels: string[];
  levels: Record<string, Level>;
}

export function prefsFormOf(p: Prefs): PrefsForm {
  return {
    time_zone: p.time_zone || 'UTC',
    slack_user: p.slack_user ?? '',
    quiet: Boolean(p.quiet_hours),
    quiet_from: p.quiet_hours?.from ?? '22:00',
    quiet_to: p.quiet_hours?.to ?? '07:00',
    quiet_days: p.quiet_hours?.days ?? [],
    quiet_mode: p.quiet_hours?.mode ?? 'digest',
    quiet_hours_off: p.quiet_hours_off ?? false,
    own_runs: p.subscriptions?.own_runs ?? false,
    job_ids: p.subscriptions?.job_ids ?? [],
    tags: (p.subscriptions?.tags ?? []).join(', '),
    sub_channels: p.subscriptions?.channels ?? [],
    levels: { ...(p.channels ?? {}) },
  };
}

/** A time of day as the api reads it, `HH:MM`. */
export const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export type BuiltPrefs = { ok: true; body: Body } | { ok: false; errors: Record<string, string> };

export function prefsBodyOf(f: PrefsForm, original: Prefs): BuiltPrefs {
  const errors: Record<string, string> = {};
  if (f.quiet && !HHMM.test(f.quiet_from)) errors.quiet_from = 'A time, HH:MM.';
  if (f.quiet && !HHMM.test(f.quiet_to)) errors.quiet_to = 'A time, HH:MM.';
  if (f.quiet && f.quiet_from === f.quiet_to && HHMM.test(f.quiet_from)) errors.quiet_to = 'Quiet hours must end at another time than they start.';
  if (f.slack_user.trim() && !/^[UW][A-Z0-9]+$/.test(f.slack_user.trim())) errors.slack_user = 'A Slack member id, such as U012AB3CD.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const levels = Object.fromEntries(Object.entries(f.levels).filter(([, v]) => v !== 'all')) as Record<string, Level>;
  return {
    ok: true,
    body: {
      time_zone: f.time_zone,
      slack_user: f.slack_user.trim() || null,
      quiet_hours: f.quiet ? { from: f.quiet_from, to: f.quiet_to, days: DAYS.filter((d) => f.quiet_days.includes(d)), mode: f.quiet_mode } : null,
      quiet_hours_off: f.quiet_hours_off,
      channels: levels,
      subscriptions: {
        ...(original.subscriptions ?? {}),
        own_runs: f.own_runs,
        job_ids: f.job_ids,
        tags: splitList(f.tags),
        channels: f.sub_channels,
      },
    } as Body,
  };
}

/** Quiet hours in words: `22:00–07:00 on weekdays, held for a digest`. */
export function quietText(q: Schemas['QuietHours'] | null | undefined): string {
  if (!q) return 'none';
  const days = !q.days || q.days.length === 0 || q.days.length === 7 ? 'every day' : q.days.join(', ');
  return `${q.from}–${q.to}, ${days}; ${q.mode === 'drop' ? 'dropped' : 'held for a digest'}`;
}
