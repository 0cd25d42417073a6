// Key completion in the YAML view: the job's keys at the top, a step's keys
// in a step, and the `with` keys of the step's type from its schema.
import type { CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import type { StepType } from './stepTypes';

/** Keys of a job document (schemas/job.schema.json, top level). */
export const JOB_KEYS: Record<string, string> = {
  name: 'Unique name.',
  description: 'What it does.',
  tags: 'Tags, for rules, subscriptions and filters.',
  critical: "A critical job's failures reach people even in quiet hours.",
  parameters: 'Typed parameters by name.',
  targets: 'Default targets of steps that address targets.',
  pool: 'The worker pool to run in when no target decides.',
  parallelism: 'Targets running at once at most (default 50).',
  keep_going: 'Go on with other targets after one fails.',
  timeout_secs: 'Seconds the whole run may take.',
  retry: 'Retries of a failed run.',
  concurrency: 'Runs of this job going at once at most.',
  steps: 'The steps, in order.',
};

/** Keys of a step (StepDocument). */
export const STEP_KEYS: Record<string, string> = {
  id: 'Unique within the job: letters, digits, _, -.',
  name: 'Shown in the console.',
  type: 'The step type, e.g. ssh.exec.',
  targets: "Targets of this step (default: the job's).",
  with: 'Type-specific settings.',
  timeout_secs: 'Seconds the step may take (default 300).',
  retry: 'Retries: attempts, backoff_secs.',
  continue_on_error: 'A failure does not fail the run.',
  when: 'A template expression; the step runs only when it is true.',
  idempotent: 'Whether running the step twice is harmless.',
};

/** Where the cursor's line sits in the document, read from indentation:
 * `job`, `step` (an item of `steps`), `with` (of a step, with its type), or
 * null elsewhere. Works on text that does not parse yet. */
export function contextAt(text: string, pos: number): { where: 'job' | 'step' | 'with' | null; stepType?: string } {
  const lines = text.slice(0, pos).split('\n');
  const current = lines[lines.length - 1] ?? '';
  const indentOf = (l: string) => l.length - l.replace(/^[\s-]*/, '').length;
  let indent = indentOf(current);
  if (indent === 0 && !current.trimStart().startsWith('-')) return { where: 'job' };
  const parents: string[] = [];
  for (let i = lines.length - 2; i >= 0; i--) {
    const l = lines[i] ?? '';
    if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
    const ind = indentOf(l);
    if (ind < indent) {
      const key = /^[\s-]*([A-Za-z_][\w.-]*)\s*:/.exec(l)?.[1];
      if (key) parents.unshift(key);
      indent = ind;
      if (ind === 0) break;
    }
  }
  if (parents[0] !== 'steps') return { where: null };
  const stepType = typeOfItem(text.split('\n'), lines.length - 1);
  if (parents.length === 1) return { where: 'step', stepType };
  if (parents[parents.length - 1] === 'with' && parents.length === 2) return { where: 'with', stepType };
  return { where: null };
}

/** The completion source of the YAML view for the current catalogue. */
export function keyCompletion(types: () => StepType[] | undefined) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const word = ctx.matchBefore(/[\w.-]*/);
    if (!word) return null;
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);
    // Only keys: nothing but indentation (and a list dash) before the word.
    if (!/^[\s-]*[\w.-]*$/.test(before)) return null;
    if (word.from === word.to && !ctx.explicit) return null;
    const at = contextAt(ctx.state.doc.toString(), ctx.pos);
    let keys: Record<string, string> = {};
    if (at.where === 'job') keys = JOB_KEYS;
    else if (at.where === 'step') keys = STEP_KEYS;
    else if (at.where === 'with') {
      const t = types()?.find((s) => s.name === at.stepType);
      const props = (t?.with_schema.properties ?? {}) as Record<string, { description?: string }>;
      keys = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.description ?? '']));
    }
    const options = Object.entries(keys).map(([label, info]) => ({ label, type: 'property', info, apply: `${label}: ` }));
    return options.length ? { from: word.from, options, validFor: /^[\w.-]*$/ } : null;
  };
}

/** The `type:` of the `steps` item holding line `at` (lines of the whole text). */
function typeOfItem(all: string[], at: number): string | undefined {
  const leading = (l: string) => l.length - l.trimStart().length;
  let item = -1;
  for (let i = at; i >= 0; i--) {
    const l = all[i] ?? '';
    if (/^\s*-\s/.test(l) && (i === at || leading(l) < leading(all[at] ?? ''))) {
      item = i;
      break;
    }
    if (leading(l) === 0 && l.trim() !== '') return undefined;
  }
  if (item < 0) return undefined;
  const dash = leading(all[item] ?? '');
  for (let i = item; i < all.length; i++) {
    const l = all[i] ?? '';
    if (i > item && l.trim() !== '' && leading(l) <= dash) break;
    const m = /^\s*(?:-\s+)?type\s*:\s*["']?([\w.-]+)/.exec(l);
    if (m && (i === item || leading(l) === dash + 2)) return m[1];
  }
  return undefined;
}
