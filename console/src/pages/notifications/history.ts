// The history's filters: kept in the page's URL, sent to `GET /api/v1/notifications`.
import { fromLocalInput } from '../schedules/scheduleForm';

export const FILTERS = ['status', 'job_id', 'channel_id', 'run_id', 'since', 'until'] as const;
export type Filter = (typeof FILTERS)[number];
export const PAGE = 50;

/** The api query of the URL: `since`/`until` typed as local times become instants. */
export function historyQuery(search: URLSearchParams, zone: string): Record<string, string | number | undefined> {
  const q: Record<string, string | number | undefined> = { limit: PAGE };
  for (const k of FILTERS) {
    const v = search.get(k)?.trim();
    if (!v) continue;
    q[k] = k === 'since' || k === 'until' ? (fromLocalInput(v, zone) ?? v) : v;
  }
  const offset = Number(search.get('offset'));
  if (Number.isInteger(offset) && offset > 0) q.offset = offset;
  return q;
}

/** The URL after a filter changed: paging starts again. */
export function withFilter(search: URLSearchParams, k: Filter | 'offset', v: string): URLSearchParams {
  const next = new URLSearchParams(search);
  if (v) next.set(k, v);
  else next.delete(k);
  if (k !== 'offset') next.delete('offset');
  return next;
}
