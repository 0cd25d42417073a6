// The dashboard's periods and the series it charts: the API leaves out
// buckets without runs, the chart shows every bucket of the period.

export type PeriodId = '24h' | '7d' | '30d';

export interface Period {
  id: PeriodId;
  label: string;
  hours: number;
  bucket: 'hour' | 'day';
}

export const PERIODS: Period[] = [
  { id: '24h', label: 'Last 24 hours', hours: 24, bucket: 'hour' },
  { id: '7d', label: 'Last 7 days', hours: 24 * 7, bucket: 'hour' },
  { id: '30d', label: 'Last 30 days', hours: 24 * 30, bucket: 'day' },
];

/** The period named `id`, or the first. */
export const periodOf = (id: string | null): Period => PERIODS.find((p) => p.id === id) ?? PERIODS[0]!;

/** One bucket as the API sends it (`BucketCounts`). */
export interface Bucket {
  start: string;
  total: number;
  by_status: Record<string, number>;
}

/** A chart row: the bucket's start (ms) and a count per status. */
export type ChartRow = { at: number; total: number } & Record<string, number>;

/** The order statuses stack in (bottom first); others follow by name. */
export const STACK = ['succeeded', 'failed', 'timed_out', 'worker_lost', 'cancelled', 'skipped', 'running', 'queued', 'waiting'];

const HOUR = 3_600_000;

/** The start of the bucket holding `ms` (UTC hours or days). */
export function bucketStart(ms: number, bucket: 'hour' | 'day'): number {
  const size = bucket === 'hour' ? HOUR : 24 * HOUR;
  return Math.floor(ms / size) * size;
}

/** Every bucket from `from` to `to` (exclusive), zeros where the API had none. */
export function fillSeries(series: Bucket[], from: string, to: string, bucket: 'hour' | 'day'): ChartRow[] {
  const size = bucket === 'hour' ? HOUR : 24 * HOUR;
  const byStart = new Map(series.map((b) => [bucketStart(Date.parse(b.start), bucket), b]));
  const out: ChartRow[] = [];
  const end = Date.parse(to);
  for (let at = bucketStart(Date.parse(from), bucket); at < end && out.length < 2000; at += size) {
    const b = byStart.get(at);
    const row = { at, total: b?.total ?? 0 } as ChartRow;
    for (const [s, n] of Object.entries(b?.by_status ?? {})) row[s] = n;
    out.push(row);
  }
  return out;
}

/** The statuses present in `series`, in stacking order. */
export function statusesIn(series: Bucket[]): string[] {
  const seen = new Set<string>();
  for (const b of series) for (const s of Object.keys(b.by_status)) seen.add(s);
  const known = STACK.filter((s) => seen.has(s));
  const others = [...seen].filter((s) => !STACK.includes(s)).sort();
  return [...known, ...others];
}

/** `87.5%`, or `—` when there is no rate. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  const p = rate * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}
