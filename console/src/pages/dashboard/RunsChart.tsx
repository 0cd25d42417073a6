// Runs per bucket by status, stacked (recharts, loaded with this file
// only when the dashboard shows the chart).
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChartRow } from './lib/period';

/** Fills that read on both themes; the status is also named in the legend, tooltip and table. */
const FILL: Record<string, string> = {
  succeeded: '#2da44e',
  failed: '#cf222e',
  timed_out: '#e16f24',
  worker_lost: '#a40e26',
  cancelled: '#bf8700',
  skipped: '#8c959f',
  running: '#0969da',
  queued: '#54aeff',
  waiting: '#8250df',
};

export default function RunsChart({ rows, statuses, bucketLabel }: { rows: ChartRow[]; statuses: string[]; bucketLabel: (at: number) => string }) {
  return (
    <div className="dash-chart" aria-hidden="true">
      <ResponsiveContainer width="100%" height={260}>
        <BarChart accessibilityLayer={false} data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--border)" />
          <XAxis dataKey="at" tickFormatter={bucketLabel} minTickGap={24} tick={{ fill: 'var(--muted)', fontSize: 12 }} stroke="var(--border)" />
          <YAxis allowDecimals={false} tick={{ fill: 'var(--muted)', fontSize: 12 }} stroke="var(--border)" />
          <Tooltip labelFormatter={(v) => bucketLabel(Number(v))} contentStyle={{ background: 'var(--surface)', border: '1px solid var(--border)', color: 'var(--text)' }} />
          <Legend formatter={(v: string) => v.replace(/_/g, ' ')} />
          {statuses.map((s) => (
            <Bar key={s} dataKey={s} stackId="runs" fill={FILL[s] ?? '#6e7781'} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
