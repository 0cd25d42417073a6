// A line diff of two job versions for people: every line once, marked
// added, removed or unchanged, with its numbers on either side.
import { diffLines } from 'diff';

/** One line of a diff. */
export interface DiffLine {
  kind: 'added' | 'removed' | 'same';
  /** The line's text, without its newline. */
  text: string;
  /** Its number in the older text (absent when added). */
  oldNo?: number;
  /** Its number in the newer text (absent when removed). */
  newNo?: number;
}

function split(value: string): string[] {
  const lines = value.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The lines of `older` → `newer`. */
export function lineDiff(older: string, newer: string): DiffLine[] {
  const out: DiffLine[] = [];
  let o = 1;
  let n = 1;
  for (const part of diffLines(older, newer)) {
    for (const text of split(part.value)) {
      if (part.added) out.push({ kind: 'added', text, newNo: n++ });
      else if (part.removed) out.push({ kind: 'removed', text, oldNo: o++ });
      else out.push({ kind: 'same', text, oldNo: o++, newNo: n++ });
    }
  }
  return out;
}

/** How many lines were added and removed. */
export function diffStats(lines: DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((l) => l.kind === 'added').length,
    removed: lines.filter((l) => l.kind === 'removed').length,
  };
}

/** The sign a line is marked with (never colour alone). */
export function sign(kind: DiffLine['kind']): string {
  return kind === 'added' ? '+' : kind === 'removed' ? '-' : ' ';
}
