// The dashboard's live activity: the latest runs loaded once, then kept
// current by GET /api/v1/runs/activity (every run's accepted, started and
// finished events). The stream is closed while the tab is hidden; each
// (re)opening, and a `lagged` frame (events the server dropped for a slow
// tab), loads the list again, so nothing that happened meanwhile is missed.
import { useEffect, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import { readEvents } from '../../lib/eventStream';
import { applyFrame, type ActivityFrame, type RunLike } from './lib/activity';
import { fetchActivity, fetchJobNames, keys } from './queries';

export interface Activity {
  runs: RunLike[];
  pending: boolean;
  error: unknown;
  /** Whether the event stream is open (else the list is as last loaded). */
  live: boolean;
}

export function useActivity(): Activity {
  const client = useQueryClient();
  const list = useQuery({ queryKey: keys.activity, queryFn: fetchActivity, refetchOnWindowFocus: false });
  const names = useQuery({ queryKey: keys.jobs, queryFn: fetchJobNames, staleTime: 60_000 });
  const [runs, setRuns] = useState<RunLike[]>([]);
  const [live, setLive] = useState(false);

  // A loaded list replaces what the stream built (it is the truth).
  useEffect(() => {
    if (list.data) setRuns(list.data.items);
  }, [list.data]);

  // Read when a frame arrives: names loading later do not reopen the stream.
  const jobNames = useRef<Map<string, string> | undefined>(undefined);
  jobNames.current = names.data;
  useEffect(() => {
    let abort: AbortController | null = null;
    let retry = 0;
    let failures = 0;
    let gone = false;
    const nameOf = (id: string) => jobNames.current?.get(id) ?? 'a job';
    const reload = () => void client.invalidateQueries({ queryKey: keys.activity });

    const open = async () => {
      window.clearTimeout(retry);
      if (gone || abort || document.visibilityState === 'hidden') return;
      const ctl = new AbortController();
      abort = ctl;
      try {
        const res = await api.raw('GET', '/api/v1/runs/activity', undefined, {
          signal: ctl.signal,
          headers: { Accept: 'text/event-stream' },
        });
        setLive(true);
        reload();
        await readEvents(res, (ev) => {
          if (ev.event === 'lagged') reload();
          if (ev.event !== 'run') return;
          const frame = JSON.parse(ev.data) as ActivityFrame;
          setRuns((rs) => applyFrame(rs, frame, nameOf));
        });
        failures = 0;
      } catch {
        // Cut, refused or aborted: tried again below unless aborted.
        failures += 1;
      }
      const aborted = ctl.signal.aborted;
      // Whatever ended the reading, the response is let go (and with it
      // the server's stream slot).
      ctl.abort();
      if (abort === ctl) abort = null;
      setLive(false);
      // The server ends a stream after a few minutes (it checks the user
      // again on reconnecting): reopened after a second; a failure waits longer
      // each time, 30 s at most.
      if (!aborted && !gone) retry = window.setTimeout(() => void open(), failures === 0 ? 1000 : Math.min(30_000, 1500 * 2 ** failures));
    };
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') {
        abort?.abort();
        abort = null;
      } else {
        void open();
      }
    };
    void open();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      gone = true;
      document.removeEventListener('visibilitychange', onVisibility);
      window.clearTimeout(retry);
      abort?.abort();
    };
  }, [client]);

  return { runs, pending: list.isPending, error: list.error, live };
}
