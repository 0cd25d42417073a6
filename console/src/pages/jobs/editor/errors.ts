// Where the API's field errors belong: a step (by its id, so reordering
// keeps them on the right node), a `with` key of that step, or the job.
import type { FieldError } from '../../../api/types';
import type { JobDoc } from './model';
import { pointer } from './text';

/** The errors of one save, sorted by what they are about. */
export interface PlacedErrors {
  /** Step id → its errors (`key` is the `with` key or step field, when named). */
  steps: Record<string, { key?: string; scope: 'with' | 'step'; message: string; path: string }[]>;
  /** Errors of the job itself (name, parameters, targets …). */
  job: FieldError[];
}

/** The step an error path points into, with the field or `with` key. */
export function stepOfPath(path: string): { index: number; scope: 'with' | 'step'; key?: string } | null {
  const seg = pointer(path);
  if (seg[0] !== 'steps' || seg[1] === undefined || !/^\d+$/.test(seg[1])) return null;
  const index = Number(seg[1]);
  if (seg[2] === 'with') return { index, scope: 'with', key: seg[3] };
  return { index, scope: 'step', key: seg[2] };
}

/** Places each error of a 422 on the step it belongs to in `doc` (the
 * document that was sent), or on the job. */
export function placeErrors(errors: FieldError[], doc: JobDoc): PlacedErrors {
  const out: PlacedErrors = { steps: {}, job: [] };
  for (const e of errors) {
    const at = stepOfPath(e.path);
    const step = at ? doc.steps[at.index] : undefined;
    if (!at || !step) {
      out.job.push(e);
      continue;
    }
    (out.steps[stepKey(step, at.index)] ??= []).push({ key: at.key, scope: at.scope, message: e.message, path: e.path });
  }
  return out;
}

/** The key of a step's errors: its id, or `#<index>` for a step without one. */
export function stepKey(step: { id?: unknown }, index: number): string {
  return typeof step.id === 'string' ? step.id : `#${index}`;
}
