// The definition as text (YAML or JSON): parsing with the parser's own
// positions, writing it back in the user's key order, and finding where an
// error's path (`/steps/2/with/comand`) is written.
import { isMap, isPair, isScalar, isSeq, parseDocument, stringify, type Node as YamlNode } from 'yaml';
import { tidy } from './defaults';
import { asJobDoc, type JobDoc } from './model';

export type Format = 'yaml' | 'json';

/** A problem found in the text, at offsets `from`..`to`. */
export interface TextProblem {
  from: number;
  to: number;
  line: number;
  column: number;
  message: string;
}

export type Parsed = { ok: true; doc: JobDoc } | { ok: false; problems: TextProblem[] };

/** The document as text in `format`, keys in their order, defaults left out. */
export function toText(doc: JobDoc, format: Format): string {
  const shown = tidy(doc);
  if (format === 'json') return `${JSON.stringify(shown, null, 2)}\n`;
  return stringify(shown, { lineWidth: 0 });
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split('\n');
  let off = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += (lines[i]?.length ?? 0) + 1;
  return Math.min(text.length, off + column - 1);
}

function problem(text: string, from: number, to: number, message: string): TextProblem {
  const f = Math.max(0, Math.min(from, text.length));
  return { from: f, to: Math.max(f, Math.min(to, text.length)), ...lineCol(text, f), message };
}

function notAnObject(text: string): TextProblem {
  return problem(text, 0, Math.min(text.length, 1), 'A job definition is a mapping (name, steps, …).');
}

function parseJson(text: string): Parsed {
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, problems: [notAnObject(text)] };
    return { ok: true, doc: asJobDoc(value) };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    // V8 says "… at position N" and, lately, "(line L column C)".
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const at = lc ? offsetOf(text, Number(lc[1]), Number(lc[2])) : pos ? Number(pos[1]) : text.length;
    return { ok: false, problems: [problem(text, at, at + 1, msg)] };
  }
}

function parseYaml(text: string): Parsed {
  const d = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (d.errors.length > 0) {
    return {
      ok: false,
      problems: d.errors.map((e) => problem(text, e.pos[0], e.pos[1], e.message.split('\n')[0] ?? e.message)),
    };
  }
  const value: unknown = d.toJS();
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, problems: [notAnObject(text)] };
  return { ok: true, doc: asJobDoc(value) };
}

/** Parses the text; on failure, the parser's problems with line and column. */
export function parseText(text: string, format: Format): Parsed {
  return format === 'json' ? parseJson(text) : parseYaml(text);
}

/** Splits a JSON Pointer (`/steps/2/with/comand`) into its segments. */
export function pointer(path: string): string[] {
  if (!path || path === '/') return [];
  return path
    .replace(/^\//, '')
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Where `path` is written in `text` (the key, when the last segment is a
 * key; else the value), or the nearest written ancestor; null when the text
 * does not parse. JSON is read as YAML, which it is. */
export function locate(text: string, path: string): { from: number; to: number } | null {
  const d = parseDocument(text, { keepSourceTokens: false });
  if (d.errors.length > 0) return null;
  let node: unknown = d.contents;
  let found: { from: number; to: number } | null = rangeOf(node);
  for (const seg of pointer(path)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      found = rangeOf(pair.key) ?? found;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      found = rangeOf(item) ?? found;
      node = item;
    } else break;
  }
  return found;
}

function rangeOf(n: unknown): { from: number; to: number } | null {
  const r = (n as YamlNode | null)?.range;
  return r ? { from: r[0], to: r[1] } : null;
}
