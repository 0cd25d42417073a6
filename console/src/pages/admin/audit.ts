// The audit log's filters as they live in the URL and go to the API, and
// where a page of it sits.

/** The text filters of `GET /api/v1/audit`, in the order the form shows them. */
export const TEXT_FILTERS = ['actor', 'action', 'entity_type', 'entity_id', 'outcome'] as const;
/** The time range: `since` inclusive, `until` exclusive (RFC 3339). */
export const TIME_FILTERS = ['since', 'until'] as const;

export type AuditFilters = Partial<Record<(typeof TEXT_FILTERS)[number] | (typeof TIME_FILTERS)[number], string>> & {
  offset?: number;
};

export const OUTCOMES = ['success', 'failure', 'denied'] as const;

/** The filters in `sp`; a time that does not parse and a bad offset are dropped. */
export function filtersOf(sp: URLSearchParams): AuditFilters {
  const f: AuditFilters = {};
  for (const k of TEXT_FILTERS) {
    const v = sp.get(k)?.trim();
    if (v) f[k] = v;
  }
  for (const k of TIME_FILTERS) {
    const v = sp.get(k)?.trim();
    if (v && Number.isFinite(Date.parse(v))) f[k] = v;
  }
  const off = Number(sp.get('offset'));
  if (Number.isInteger(off) && off > 0) f.offset = off;
  return f;
}

/** The URL query of `f` (empty values left out, so a link stays short). */
export function searchOf(f: AuditFilters): URLSearchParams {
  const sp = new URLSearchParams();
  for (const k of [...TEXT_FILTERS, ...TIME_FILTERS]) {
    const v = f[k]?.trim();
    if (v) sp.set(k, v);
  }
  if (f.offset && f.offset > 0) sp.set('offset', String(f.offset));
  return sp;
}

/** The query of an export of everything `f` matches (paging does not apply). */
export function exportQuery(f: AuditFilters, format: 'csv' | 'json'): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of searchOf({ ...f, offset: undefined })) q[k] = v;
  q.format = format;
  return q;
}

/** Where a page sits in the whole: "51–100 of 240", and the offsets either side. */
export function pageOf(offset: number, limit: number, shown: number, total: number) {
  return {
    from: shown === 0 ? 0 : offset + 1,
    to: offset + shown,
    total,
    prev: offset > 0 ? Math.max(0, offset - limit) : null,
    next: offset + shown < total ? offset + limit : null,
  };
}

/** A record's summary as indented JSON (it is redacted by the API). */
export function summaryText(summary: unknown): string {
  if (summary === null || summary === undefined) return '—';
  return JSON.stringify(summary, null, 2);
}
