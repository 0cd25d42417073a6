// A stored rule's conditions and recipients in words, for its page: what
// the form edits, read back (names where the page knows them, short ids
// where it does not: a non-admin cannot list users).
import type { Schemas } from '../../api/types';
import { shortId } from '../../lib/format';

type Conditions = Schemas['RuleConditions'];

/** Names by id, of whatever a rule refers to. */
export type Names = Map<string, string>;

const named = (ids: readonly string[], names: Names) => ids.map((id) => names.get(id) ?? shortId(id)).join(', ');

const seconds = (ms: number) => `${(ms / 1000).toLocaleString(undefined, { maximumFractionDigits: 3 })} s`;

/** The rows the editor's "Only for" section sets, beyond jobs and statuses, as [label, text]. */
export function conditionRows(c: Conditions | undefined, names: { users: Names; schedules: Names; groups: Names }): [string, string][] {
  if (!c) return [];
  const rows: [string, string][] = [];
  if (c.job_owner_ids?.length) rows.push(['Jobs owned by', named(c.job_owner_ids, names.users)]);
  if (c.target_group_ids?.length) rows.push(['Targets in', named(c.target_group_ids, names.groups)]);
  if (c.schedule_ids?.length) rows.push(['Schedules', named(c.schedule_ids, names.schedules)]);
  const min = c.min_duration_ms;
  const max = c.max_duration_ms;
  if (min != null || max != null) {
    rows.push(['Took', min != null && max != null ? `${seconds(min)} to ${seconds(max)}` : min != null ? `at least ${seconds(min)}` : `at most ${seconds(max ?? 0)}`]);
  }
  const t = c.time_of_day;
  if (t) {
    const hours = t.from === t.to ? 'all day' : `${t.from} until ${t.to}`;
    rows.push(['Hours', `${hours} (${t.zone ?? 'UTC'})${t.days?.length ? `, ${t.days.join(', ')}` : ''}`]);
  }
  if (c.slow_margin_pct != null) rows.push(['Slow means', `${c.slow_margin_pct}% over the usual p95`]);
  return rows;
}

/** The users among a line's recipients, by name. */
export function userRecipients(to: Schemas['Recipient'][] | undefined, users: Names): string {
  const ids = (to ?? []).flatMap((r) => (r.type === 'user' ? [r.user_id] : []));
  return named(ids, users);
}
