// Run output held compactly: one section per step and target, each an
// array of texts plus one byte per line for its stream. A replayed stream
// (after a reconnect) is de-duplicated by (section, attempt, line_no).

/** Line kinds, stored one byte per line. */
export const STDOUT = 0;
export const STDERR = 1;
/** A line the console adds (an attempt separator). */
export const META = 2;

/** The output of one step on one target. */
export interface Section {
  key: string;
  stepId: string;
  targetId: string | null;
  texts: string[];
  kinds: Uint8Array;
  /** Per attempt, the highest line_no kept. */
  seen: Map<number, number>;
  /** The attempt the current connection's lines belong to. */
  attempt: number;
}

/** An `output` frame's payload. */
export interface OutputFrame {
  step_id: string;
  target_id?: string | null;
  line_no: number;
  stream?: string;
  text: string;
}

/** Total lines kept at most; later lines are counted, not kept. */
export const MAX_LINES = 1_000_000;

export const sectionKey = (stepId: string, targetId: string | null | undefined) => `${stepId}\u0000${targetId ?? ''}`;

/** Every line of a run, in sections, in order of first appearance. */
export class LineStore {
  readonly sections: Section[] = [];
  private byKey = new Map<string, Section>();
  total = 0;
  dropped = 0;
  /** Bumped on every change (for React). */
  version = 0;

  private section(stepId: string, targetId: string | null | undefined): Section {
    const key = sectionKey(stepId, targetId);
    let s = this.byKey.get(key);
    if (!s) {
      s = { key, stepId, targetId: targetId ?? null, texts: [], kinds: new Uint8Array(64), seen: new Map(), attempt: 1 };
      this.byKey.set(key, s);
      this.sections.push(s);
    }
    return s;
  }

  private append(s: Section, text: string, kind: number): void {
    if (this.total >= MAX_LINES) {
      this.dropped++;
      return;
    }
    const n = s.texts.length;
    if (n >= s.kinds.length) {
      const grown = new Uint8Array(s.kinds.length * 2);
      grown.set(s.kinds);
      s.kinds = grown;
    }
    s.kinds[n] = kind;
    s.texts.push(text);
    this.total++;
    this.version++;
  }

  /** A new connection begins: lines count against attempt 1 again until
   * the replayed `step_started` frames say otherwise. */
  reconnect(): void {
    for (const s of this.sections) s.attempt = 1;
  }

  /** A `step_started` frame: later lines of this section are that attempt's. */
  stepStarted(stepId: string, targetId: string | null | undefined, attempt: number): void {
    const s = this.section(stepId, targetId);
    s.attempt = attempt;
    if (attempt > 1 && !s.seen.has(attempt)) {
      s.seen.set(attempt, 0);
      this.append(s, `── attempt ${attempt} ──`, META);
    }
  }

  /** An `output` frame; returns false when it was a duplicate. */
  add(f: OutputFrame): boolean {
    const s = this.section(f.step_id, f.target_id);
    const max = s.seen.get(s.attempt) ?? 0;
    if (f.line_no <= max) return false;
    s.seen.set(s.attempt, f.line_no);
    this.append(s, f.text, f.stream === 'stderr' ? STDERR : STDOUT);
    return true;
  }
}

/** Where flat row `i` of the output view is: a section header (`line` -1)
 * or a line. Each section shows as a header row then its lines. */
export function locate(sections: Section[], i: number): { section: number; line: number } | null {
  let at = i;
  for (let s = 0; s < sections.length; s++) {
    const rows = (sections[s]?.texts.length ?? 0) + 1;
    if (at < rows) return { section: s, line: at - 1 };
    at -= rows;
  }
  return null;
}

/** Rows of the output view (headers included). */
export function rowCount(sections: Section[]): number {
  let n = 0;
  for (const s of sections) n += s.texts.length + 1;
  return n;
}

/** The flat row of line `line` of section `section`. */
export function rowOf(sections: Section[], section: number, line: number): number {
  let n = 0;
  for (let s = 0; s < section; s++) n += (sections[s]?.texts.length ?? 0) + 1;
  return n + 1 + line;
}
