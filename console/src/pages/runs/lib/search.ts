// Finding text in the run's output: matches kept per section and found
// incrementally as lines arrive (a 300,000-line run is scanned once), and
// a line's styled segments split where a match begins and ends.
import { stripAnsi, type Segment } from './ansi';
import type { Section } from './lines';

/** Most matches kept; the count says when there were more. */
export const MAX_MATCHES = 10_000;

/** One match: a line of one of the sections searched. */
export interface Match {
  section: number;
  line: number;
}

/** The matches of one query; `update` scans what was added since. */
export class Finder {
  private found = new Map<Section, number[]>();
  private scanned = new Map<Section, number>();
  private count = 0;
  /** More lines matched than `MAX_MATCHES`. */
  capped = false;
  readonly needle: string;

  constructor(query: string) {
    this.needle = query.toLowerCase();
  }

  /** Scans new lines of `sections`; true when matches were added. */
  update(sections: Section[]): boolean {
    if (!this.needle) return false;
    let added = false;
    for (const s of sections) {
      const from = this.scanned.get(s) ?? 0;
      if (from >= s.texts.length) continue;
      let list = this.found.get(s);
      if (!list) {
        list = [];
        this.found.set(s, list);
      }
      for (let i = from; i < s.texts.length; i++) {
        if (!stripAnsi(s.texts[i] ?? '').toLowerCase().includes(this.needle)) continue;
        if (this.count >= MAX_MATCHES) {
          this.capped = true;
          continue;
        }
        list.push(i);
        this.count++;
        added = true;
      }
      this.scanned.set(s, s.texts.length);
    }
    return added;
  }

  /** Every match in the order of `sections`. */
  matches(sections: Section[]): Match[] {
    const out: Match[] = [];
    sections.forEach((s, section) => {
      for (const line of this.found.get(s) ?? []) out.push({ section, line });
    });
    return out;
  }
}

/** A segment, marked when it is (part of) a match. */
export interface Marked extends Segment {
  hit: boolean;
}

/** Splits `segments` (one line) at each case-insensitive occurrence of `query`. */
export function highlight(segments: Segment[], query: string): Marked[] {
  const plain = segments.map((s) => s.text).join('');
  const needle = query.toLowerCase();
  if (!needle) return segments.map((s) => ({ ...s, hit: false }));
  const hay = plain.toLowerCase();
  const ranges: [number, number][] = [];
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) ranges.push([at, at + needle.length]);
  if (ranges.length === 0) return segments.map((s) => ({ ...s, hit: false }));
  const out: Marked[] = [];
  let pos = 0;
  for (const seg of segments) {
    const end = pos + seg.text.length;
    let cut = pos;
    for (const [a, b] of ranges) {
      if (b <= cut || a >= end) continue;
      if (a > cut) out.push({ text: plain.slice(cut, a), cls: seg.cls, hit: false });
      const to = Math.min(b, end);
      out.push({ text: plain.slice(Math.max(a, cut), to), cls: seg.cls, hit: true });
      cut = to;
    }
    if (cut < end) out.push({ text: plain.slice(cut, end), cls: seg.cls, hit: false });
    pos = end;
  }
  return out;
}
