// What the run page knows of its steps: the API's `GET /runs/{id}/steps`
// (server times, refetched now and then) overlaid with what the live
// stream said since (a step that started or ended a moment ago), so the
// timeline moves as the frames arrive.
import type { StepTiming } from './timeline';

/** A step as the stream reported it, with the times the page saw. */
export interface LiveStep extends StepTiming {
  duration_ms?: number | null;
}

/** A `run` frame's payload (`{type, data}`). */
export interface RunFrame {
  type: string;
  data?: {
    step_id?: string;
    target_id?: string | null;
    attempt?: number;
    status?: string;
    exit_code?: number | null;
    error?: string | null;
    duration_ms?: number;
  };
}

const keyOf = (s: { step_id: string; target_id?: string | null }) => `${s.step_id}\u0000${s.target_id ?? ''}`;

const TERMINAL_STEP = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'skipped', 'worker_lost', 'error']);

/** Whether a step's status is final. */
export const stepDone = (status: string) => TERMINAL_STEP.has(status);

/** The stream's steps, by step and target; fed `run` frames in order. */
export class LiveSteps {
  private byKey = new Map<string, LiveStep>();

  /** Applies a frame seen at `now` (ms); true when it changed a step. */
  apply(f: RunFrame, now: number): boolean {
    const d = f.data;
    if (!d?.step_id || (f.type !== 'step_started' && f.type !== 'step_finished')) return false;
    const key = keyOf({ step_id: d.step_id, target_id: d.target_id });
    const attempt = d.attempt ?? 1;
    const prev = this.byKey.get(key);
    const at = new Date(now).toISOString();
    if (f.type === 'step_started') {
      if (prev && prev.attempt >= attempt) return false;
      this.byKey.set(key, { step_id: d.step_id, target_id: d.target_id ?? null, attempt, status: 'running', started_at: at, finished_at: null });
      return true;
    }
    // A replayed stream delivers a finished step at once: place its start
    // by its duration rather than at the moment the frame arrived.
    const ms = d.duration_ms ?? 0;
    const startedEarlier = new Date(now - ms).toISOString();
    const started = prev && prev.attempt === attempt && prev.started_at && Date.parse(prev.started_at) < now - ms ? prev.started_at : startedEarlier;
    this.byKey.set(key, {
      step_id: d.step_id,
      target_id: d.target_id ?? null,
      attempt,
      status: d.status ?? 'succeeded',
      started_at: started,
      finished_at: at,
      exit_code: d.exit_code ?? null,
      error: d.error ?? null,
      duration_ms: ms,
    });
    return true;
  }

  /** Every step seen, in order of first appearance. */
  list(): LiveStep[] {
    return [...this.byKey.values()];
  }
}

/** The API's steps, corrected by newer news from the stream: a later
 * attempt, or an end the API did not know of yet; steps the API has not
 * listed yet come last. Server times win when both know the attempt. */
export function mergeSteps<S extends StepTiming>(server: S[] | undefined, live: LiveStep[]): (S | LiveStep)[] {
  const out: (S | LiveStep)[] = [...(server ?? [])];
  const at = new Map(out.map((s, i) => [keyOf(s), i]));
  for (const l of live) {
    const i = at.get(keyOf(l));
    if (i === undefined) {
      at.set(keyOf(l), out.length);
      out.push(l);
      continue;
    }
    const s = out[i]!;
    if (l.attempt > s.attempt) {
      out[i] = l;
    } else if (l.attempt === s.attempt && !stepDone(s.status) && stepDone(l.status)) {
      const started = s.started_at ?? l.started_at;
      const finished = started && l.duration_ms != null ? new Date(Date.parse(started) + l.duration_ms).toISOString() : l.finished_at;
      out[i] = { ...s, status: l.status, exit_code: l.exit_code, error: l.error, started_at: started, finished_at: finished };
    }
  }
  return out;
}
