// Live activity: the latest runs as a feed of what happened (accepted,
// started, finished), newest first.

/** What the feed needs of a run (a `RunView`). */
export interface RunLike {
  id: string;
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
