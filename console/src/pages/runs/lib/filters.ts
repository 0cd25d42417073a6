// The runs list's filters: kept in the page's URL (so a filtered list can
// be shared and survives a reload) and turned into GET /api/v1/runs's query.

/** The filters as the URL names them. */
export interface RunFilters {
  job?: string;
  status?: string;
  trigger?: string;
  target?: string;
  /** Accepted at or after (RFC 3339). */
  since?: string;
  /** Accepted before (RFC 3339). */
  until?: string;
}

export const FILTER_KEYS = ['job', 'status', 'trigger', 'target', 'since', 'until'] as const;

export const STATUSES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'worker_lost', 'skipped'];
export const TRIGGERS = ['manual', 'api', 'schedule', 'dependency', 'retry', 'rerun', 'integration', 'adhoc'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const validTime = (v: string) => Number.isFinite(Date.parse(v));

/** The filters in `sp`; values the API would refuse are left out. */
export function filtersOf(sp: URLSearchParams): RunFilters {
  const f: RunFilters = {};
  const job = sp.get('job');
  if (job && UUID.test(job)) f.job = job;
  const target = sp.get('target');
  if (target && UUID.test(target)) f.target = target;
  const status = sp.get('status');
  if (status && STATUSES.includes(status)) f.status = status;
  const trigger = sp.get('trigger');
  if (trigger && TRIGGERS.includes(trigger)) f.trigger = trigger;
  const since = sp.get('since');
  if (since && validTime(since)) f.since = new Date(since).toISOString();
  const until = sp.get('until');
  if (until && validTime(until)) f.until = new Date(until).toISOString();
  return f;
}

/** The URL search params of `f` (empty values dropped). */
export function paramsOf(f: RunFilters): URLSearchParams {
  const sp = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = f[k];
    if (v) sp.set(k, v);
  }
  return sp;
}

/** GET /api/v1/runs's query for `f`, every page ending at `snapshot` (so
 * that runs accepted while the user scrolls do not shift the pages). */
export function runsQuery(f: RunFilters, snapshot: string, offset: number, limit: number): Record<string, string | number> {
  const q: Record<string, string | number> = { limit, offset };
  if (f.job) q.job_id = f.job;
  if (f.status) q.status = f.status;
  if (f.trigger) q.trigger = f.trigger;
  if (f.target) q.target_id = f.target;
  if (f.since) q.since = f.since;
  q.until = f.until && Date.parse(f.until) < Date.parse(snapshot) ? f.until : snapshot;
  return q;
}

/** Page indexes that hold rows `first..last` (inclusive). */
export function pagesFor(first: number, last: number, size: number): number[] {
  if (last < first || first < 0) return [];
  const out: number[] = [];
  for (let p = Math.floor(first / size); p <= Math.floor(last / size); p++) out.push(p);
  return out;
}
