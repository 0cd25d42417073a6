// The problems of an import, by row: the api answers 422 with `errors` of
// `{row, field, message}` (row 1-based, as in the preview), or JSON-Pointer
// `path`s like `/2/hostname` (0-based array index).

/** One field's problem in one row. */
export interface RowProblem {
  field: string;
  message: string;
}

/** Problems by 1-based data row; `0` holds those of no row. */
export function rowErrors(errors: unknown): Map<number, RowProblem[]> {
  const out = new Map<number, RowProblem[]>();
  const add = (row: number, p: RowProblem) => out.set(row, [...(out.get(row) ?? []), p]);
  if (!Array.isArray(errors)) return out;
  for (const raw of errors as unknown[]) {
    if (!raw || typeof raw !== 'object') continue;
    const e = raw as { row?: unknown; field?: unknown; path?: unknown; message?: unknown };
    const message = typeof e.message === 'string' ? e.message : 'invalid';
    if (typeof e.row === 'number' && Number.isInteger(e.row) && e.row > 0) {
      add(e.row, { field: typeof e.field === 'string' ? e.field : '', message });
      continue;
    }
    const m = typeof e.path === 'string' ? /^\/(\d+)(?:\/(.*))?$/.exec(e.path) : null;
    if (m) add(Number(m[1]) + 1, { field: (m[2] ?? '').replace(/\//g, '.'), message });
    else add(0, { field: typeof e.field === 'string' ? e.field : typeof e.path === 'string' ? e.path : '', message });
  }
  return out;
}
