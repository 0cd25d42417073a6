// A small RFC 4180 CSV reader for the import preview: quoted fields with
// commas, doubled quotes and new lines; CRLF or LF; blank lines skipped
// (as the api's reader skips them, so row numbers agree).

/** Rows of cells; `header` is the first row. */
export interface Csv {
  header: string[];
  rows: string[][];
}

/** Every record of `text`, the first being the header. Throws on an unterminated quote. */
export function parseCsv(text: string): Csv {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  let touched = false;
  const endCell = () => {
    record.push(cell);
    cell = '';
  };
  const endRecord = () => {
    endCell();
    if (touched || record.some((c) => c !== '')) records.push(record);
    record = [];
    touched = false;
  };
  const t = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (let i = 0; i < t.length; i++) {
    const ch = t[i];
    if (quoted) {
      if (ch === '"') {
        if (t[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      touched = true;
    } else if (ch === ',') {
      endCell();
      touched = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && t[i + 1] === '\n') i++;
      endRecord();
    } else cell += ch;
  }
  if (quoted) throw new Error('A quoted field is not closed.');
  if (cell !== '' || record.length > 0 || touched) endRecord();
  const [header = [], ...rows] = records;
  return { header: header.map((h) => h.trim()), rows };
}

/** Rows as objects keyed by the header. */
export function csvObjects(csv: Csv): Record<string, string>[] {
  return csv.rows.map((r) => Object.fromEntries(csv.header.map((h, i) => [h, r[i] ?? ''])));
}
