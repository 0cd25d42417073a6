// The job definition being edited: one object both views change, held by a
// reducer. Unknown fields are kept as they are (the API decides on them), and
// key order is the order the user wrote.
import { tidy } from './defaults';

/** A JSON value as the editor holds it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An object of the definition (the job, a step, a parameter). */
export type Obj = { [key: string]: Json };

/** The job definition document, loosely typed: what the user wrote. */
export interface JobDoc extends Obj {
  name: string;
  steps: Obj[];
}

/** What changed the document last: the YAML view does not rewrite its own text. */
export type Origin = 'yaml' | 'form' | 'load';

export interface EditorState {
  doc: JobDoc;
  origin: Origin;
}

export type Action =
  | { kind: 'load'; doc: JobDoc }
  | { kind: 'replace'; doc: JobDoc }
  | { kind: 'set-job'; key: string; value: Json | undefined }
  | { kind: 'add-step'; type: string; at?: number }
  | { kind: 'set-step'; index: number; key: string; value: Json | undefined }
  | { kind: 'set-with'; index: number; key: string; value: Json | undefined }
  | { kind: 'remove-step'; index: number }
  | { kind: 'move-step'; from: number; to: number };

/** A new job: nothing but an empty name and no steps. */
export function emptyJob(): JobDoc {
  return { name: '', description: '', steps: [] };
}

/** Reads any parsed value as a job document (a non-object is kept out by the caller). */
export function asJobDoc(value: unknown): JobDoc {
  const o = (value && typeof value === 'object' && !Array.isArray(value) ? value : {}) as Obj;
  const steps = Array.isArray(o.steps) ? (o.steps.filter((s) => s && typeof s === 'object' && !Array.isArray(s)) as Obj[]) : [];
  return { ...o, name: typeof o.name === 'string' ? o.name : '', steps } as JobDoc;
}

/** `obj` with `key` set to `value` (removed when undefined), keeping the key's place. */
export function setKey(obj: Obj, key: string, value: Json | undefined): Obj {
  if (value === undefined) {
    const rest = { ...obj };
    delete rest[key];
    return rest;
  }
  return { ...obj, [key]: value };
}

/** An id not used by any step: `<family>_<n>` from the type (`ssh.exec` → `ssh_exec_1`). */
export function freshStepId(steps: Obj[], type: string): string {
  const base = type.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^[^A-Za-z]+/, '') || 'step';
  const used = new Set(steps.map((s) => s.id));
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`;
    if (!used.has(id)) return id;
  }
}

function withSteps(doc: JobDoc, steps: Obj[]): JobDoc {
  return { ...doc, steps };
}

function docReducer(doc: JobDoc, a: Action): JobDoc {
  switch (a.kind) {
    case 'load':
    case 'replace':
      return a.doc;
    case 'set-job':
      return asJobDoc(setKey(doc, a.key, a.value));
    case 'add-step': {
      const step: Obj = { id: freshStepId(doc.steps, a.type), type: a.type, with: {} };
      const at = a.at === undefined ? doc.steps.length : Math.max(0, Math.min(a.at, doc.steps.length));
      return withSteps(doc, [...doc.steps.slice(0, at), step, ...doc.steps.slice(at)]);
    }
    case 'set-step':
      return withSteps(
        doc,
        doc.steps.map((s, i) => (i === a.index ? setKey(s, a.key, a.value) : s)),
      );
    case 'set-with':
      return withSteps(
        doc,
        doc.steps.map((s, i) => {
          if (i !== a.index) return s;
          const w = s.with && typeof s.with === 'object' && !Array.isArray(s.with) ? s.with : {};
          return { ...s, with: setKey(w, a.key, a.value) };
        }),
      );
    case 'remove-step':
      return withSteps(
        doc,
        doc.steps.filter((_, i) => i !== a.index),
      );
    case 'move-step':
      return withSteps(doc, moveItem(doc.steps, a.from, a.to));
  }
}

/** The reducer of the editor: every change to the definition goes through it. */
export function editorReducer(state: EditorState, a: Action): EditorState {
  const origin: Origin = a.kind === 'load' ? 'load' : a.kind === 'replace' ? 'yaml' : 'form';
  return { doc: docReducer(state.doc, a), origin };
}

/** `items` with the item at `from` moved to index `to`. */
export function moveItem<T>(items: T[], from: number, to: number): T[] {
  if (from < 0 || from >= items.length || from === to) return items;
  const next = items.slice();
  const [it] = next.splice(from, 1);
  next.splice(Math.max(0, Math.min(to, next.length)), 0, it as T);
  return next;
}

/** Where step `target` goes when the user connects `source` → `target`:
 * steps run in order, so the edge means "right after". */
export function connectOrder(steps: Obj[], source: number, target: number): { from: number; to: number } | null {
  if (source === target || source < 0 || target < 0 || source >= steps.length || target >= steps.length) return null;
  const to = target > source ? source + 1 : source;
  return target === to ? null : { from: target, to };
}

/** A stable text of a value: keys sorted, undefined dropped. Two documents
 * mean the same when their normal forms are equal (key order and formatting
 * are not changes). */
export function normalise(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sort(x);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/** Whether `doc` differs from what was last loaded or saved (a default
 * written out or left out is not a difference). */
export function isDirty(doc: JobDoc, baseline: JobDoc): boolean {
  return normalise(tidy(doc)) !== normalise(tidy(baseline));
}
