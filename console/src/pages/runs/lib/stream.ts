// Follows GET /api/v1/runs/{id}/stream with fetch (EventSource cannot send
// the Authorization header). The stream replays a run from its start; the
// frames it reads live carry an SSE id, and a reconnect sends the last one
// as Last-Event-ID, so a run still going on resumes right after it. A run
// that ended meanwhile is replayed whole (its frames carry no id) and the
// line store skips what it already has: no gap, no duplicate either way.
// Closed while the tab is hidden; a cut or refused stream (429, 5xx,
// network) is tried again.
import { useEffect, useRef, useState } from 'react';
import { api } from '../../../api/client';
import { ApiError } from '../../../api/errors';
import { LineStore, type OutputFrame } from './lines';
import { readEvents } from '../../../lib/eventStream';
import { LiveSteps, type RunFrame } from './steps';

/** Whether a failed stream is worth opening again. */
export function retryable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 429 || e.status >= 500;
  return true;
}

/** The stream's state for the page. */
export interface Live {
  store: LineStore;
  /** The steps as the stream reported them. */
  steps: LiveSteps;
  /** Bumped (at most once a frame) when lines or events arrived. */
  version: number;
  /** Bumped on each step_started / step_finished / finished event. */
  stepVersion: number;
  /** `connecting`, `live`, `paused` (tab hidden), `ended`, `error`. */
  state: 'connecting' | 'live' | 'paused' | 'ended' | 'error';
  error: unknown;
  /** The `end` frame's status. */
  endStatus: string | null;
}

/** Reads the run's stream while the tab is visible. */
export function useRunStream(runId: string): Live {
  const storeRef = useRef<LineStore | null>(null);
  storeRef.current ??= new LineStore();
  const store = storeRef.current;
  const stepsRef = useRef<LiveSteps | null>(null);
  stepsRef.current ??= new LiveSteps();
  const steps = stepsRef.current;
  const [version, setVersion] = useState(0);
  const [stepVersion, setStepVersion] = useState(0);
  const [state, setState] = useState<Live['state']>('connecting');
  const [error, setError] = useState<unknown>(null);
  const [endStatus, setEndStatus] = useState<string | null>(null);

  useEffect(() => {
    let abort: AbortController | null = null;
    let ended = false;
    let frame = 0;
    let retry = 0;
    /** The id of the last frame read: where a reconnect resumes. */
    let lastId: string | undefined;
    const flush = () => {
      frame = 0;
      setVersion(store.version);
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(flush);
    };

    const open = async () => {
      window.clearTimeout(retry);
      if (ended || abort || document.visibilityState === 'hidden') return;
      const ctl = new AbortController();
      abort = ctl;
      setState('connecting');
      const resumeFrom = lastId;
      let first = true;
      try {
        const res = await api.raw('GET', `/api/v1/runs/${runId}/stream`, undefined, {
          signal: ctl.signal,
          headers: { Accept: 'text/event-stream', ...(resumeFrom ? { 'Last-Event-ID': resumeFrom } : {}) },
        });
        setState('live');
        setError(null);
        await readEvents(
          res,
          (ev) => {
            // A replay from the start (a first read, or the run ended while
            // away): its attempts are announced again from the first.
            if (first && (!resumeFrom || ev.id === undefined)) store.reconnect();
            first = false;
            if (ev.id) lastId = ev.id;
            if (ev.event === 'output') {
              store.add(JSON.parse(ev.data) as OutputFrame);
            } else if (ev.event === 'run') {
              const r = JSON.parse(ev.data) as RunFrame;
              steps.apply(r, Date.now());
              if (r.type === 'step_started' && r.data?.step_id) {
                store.stepStarted(r.data.step_id, r.data.target_id, r.data.attempt ?? 1);
              }
              if (r.type.startsWith('step_') || r.type === 'finished' || r.type === 'started') {
                setStepVersion((v) => v + 1);
              }
            } else if (ev.event === 'end') {
              ended = true;
              setEndStatus((JSON.parse(ev.data) as { status?: string }).status ?? null);
            }
          },
          schedule,
        );
        if (abort === ctl) abort = null;
        if (ended) {
          setState('ended');
          setStepVersion((v) => v + 1);
        } else if (!ctl.signal.aborted) {
          // Cut short (the server or the bus went away): try again soon.
          setState('connecting');
          retry = window.setTimeout(() => void open(), 2000);
        }
      } catch (e) {
        if (abort === ctl) abort = null;
        if (ctl.signal.aborted) return;
        setError(e);
        setState('error');
        if (retryable(e) && !ended) retry = window.setTimeout(() => void open(), 3000);
      }
      schedule();
    };

    const onVisibility = () => {
      if (document.visibilityState === 'hidden') {
        if (abort) {
          const a = abort;
          abort = null;
          a.abort();
          if (!ended) setState('paused');
        }
      } else {
        void open();
      }
    };
    if (document.visibilityState !== 'hidden') void open();
    else setState('paused');
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      ended = true;
      window.clearTimeout(retry);
      abort?.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [runId, store, steps]);

  return { store, steps, version, stepVersion, state, error, endStatus };
}
