// ANSI SGR colours in command output, as segments with CSS classes (never
// HTML). Other escape sequences are dropped.

/** A run of text with the classes of its style. */
export interface Segment {
  text: string;
  cls: string;
}

interface Style {
  fg: number | null;
  bg: number | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
}

const plain = (): Style => ({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });

function classOf(s: Style): string {
  const c: string[] = [];
  if (s.fg !== null) c.push(`ansi-fg-${s.fg}`);
  if (s.bg !== null) c.push(`ansi-bg-${s.bg}`);
  if (s.bold) c.push('ansi-bold');
  if (s.dim) c.push('ansi-dim');
  if (s.italic) c.push('ansi-italic');
  if (s.underline) c.push('ansi-underline');
  return c.join(' ');
}

function apply(s: Style, params: number[]): void {
  for (let i = 0; i < params.length; i++) {
    const p = params[i] ?? 0;
    if (p === 0) Object.assign(s, plain());
    else if (p === 1) s.bold = true;
    else if (p === 2) s.dim = true;
    else if (p === 3) s.italic = true;
    else if (p === 4) s.underline = true;
    else if (p === 22) s.bold = s.dim = false;
    else if (p === 23) s.italic = false;
    else if (p === 24) s.underline = false;
    else if (p >= 30 && p <= 37) s.fg = p - 30;
    else if (p >= 90 && p <= 97) s.fg = p - 90 + 8;
    else if (p === 39) s.fg = null;
    else if (p >= 40 && p <= 47) s.bg = p - 40;
    else if (p >= 100 && p <= 107) s.bg = p - 100 + 8;
    else if (p === 49) s.bg = null;
    else if (p === 38 || p === 48) {
      // 256-colour and true-colour forms: map the 16 basic ones, skip the rest.
      const mode = params[i + 1];
      if (mode === 5) {
        const n = params[i + 2];
        if (n !== undefined && n < 16) {
          if (p === 38) s.fg = n;
          else s.bg = n;
        }
        i += 2;
      } else if (mode === 2) {
        i += 4;
      }
    }
  }
}

// CSI sequences (ESC [ params final) and two-character escapes.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[([0-9;?]*)([@-~])|\u001b[@-_]/g;

/** Splits one line into styled segments. */
export function parseAnsi(line: string): Segment[] {
  if (!line.includes('\u001b')) return [{ text: line, cls: '' }];
  const out: Segment[] = [];
  const style = plain();
  let last = 0;
  const push = (text: string) => {
    if (!text) return;
    const cls = classOf(style);
    const prev = out[out.length - 1];
    if (prev && prev.cls === cls) prev.text += text;
    else out.push({ text, cls });
  };
  for (const m of line.matchAll(ESCAPE)) {
    push(line.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[2] === 'm') {
      const params = (m[1] ?? '').split(';').map((x) => (x === '' ? 0 : Number(x)));
      apply(style, params);
    }
  }
  push(line.slice(last));
  return out;
}

/** The line without any escape sequences (for search). */
export function stripAnsi(line: string): string {
  return line.includes('\u001b') ? line.replace(ESCAPE, '') : line;
}
