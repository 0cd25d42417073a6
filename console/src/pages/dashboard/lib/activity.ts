// Live activity: the latest runs as a feed of what happened (accepted,
// started, finished), newest first. The list is loaded once, then kept
// current by the frames of GET /api/v1/runs/activity (`applyFrame`).

/** What the feed needs of a run (a `RunView`). */
export interface RunLike {
  id: string;
  job_id?: string;
  job_name: string;
  status: string;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
}

export interface Happening {
  key: string;
  run: RunLike;
  what: 'accepted' | 'started' | 'finished';
  at: string;
}

/** The happenings of `runs`, newest first, `limit` at most. */
export function feed(runs: RunLike[], limit = 20): Happening[] {
  const out: Happening[] = [];
  for (const r of runs) {
    if (r.finished_at) out.push({ key: `${r.id}-f`, run: r, what: 'finished', at: r.finished_at });
    if (r.started_at) out.push({ key: `${r.id}-s`, run: r, what: 'started', at: r.started_at });
    else if (!r.finished_at) out.push({ key: `${r.id}-a`, run: r, what: 'accepted', at: r.created_at });
  }
  out.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return out.slice(0, limit);
}

/** One `run` frame of the activity stream. */
export interface ActivityFrame {
  type: string;
  time?: string | null;
  data: { run_id: string; job_id?: string | null; status?: string | null };
}

/** How many runs the feed keeps. */
export const KEEP = 50;

/** `runs` with what `frame` says applied: a run accepted is added (named
 * through `jobName`), a start or an end updates its run; the first start of
 * a run counts (a run of several shards starts once per shard). A frame of
 * a run the list does not hold, other than its acceptance, is left out: it
 * began before the list was loaded and is not among the latest. */
export function applyFrame(runs: RunLike[], frame: ActivityFrame, jobName: (jobId: string) => string): RunLike[] {
  const at = frame.time ?? new Date().toISOString();
  const id = frame.data.run_id;
  const i = runs.findIndex((r) => r.id === id);
  if (frame.type === 'accepted') {
    if (i >= 0) return runs;
    const jobId = frame.data.job_id ?? '';
    const run: RunLike = { id, job_id: jobId, job_name: jobName(jobId), status: 'queued', created_at: at };
    return [run, ...runs].slice(0, KEEP);
  }
  const r = runs[i];
  if (!r) return runs;
  let next: RunLike;
  if (frame.type === 'started') {
    if (r.started_at || r.finished_at) return runs;
    next = { ...r, status: 'running', started_at: at };
  } else if (frame.type === 'finished') {
    next = { ...r, status: frame.data.status ?? r.status, finished_at: at };
  } else {
    return runs;
  }
  const out = runs.slice();
  out[i] = next;
  return out;
}
