// `/`: how the runs went over a period (from GET /api/v1/insights, whose
// aggregates PostgreSQL computes), the workers and their load, the fires of
// the next 24 hours, and live activity (the latest runs, kept current by
// the api's event stream of every run: ./useActivity).
import { Suspense, lazy, useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { duration, shortId } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { SelectField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Empty, Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { feed } from './lib/activity';
import { useActivity } from './useActivity';
import { PERIODS, fillSeries, percent, periodOf, statusesIn, type ChartRow, type Period } from './lib/period';
import { fetchInsights, fetchJobNames, fetchUpcoming, fetchWorkers, keys, type Insights, type JobStats } from './queries';

const RunsChart = lazy(() => import('./RunsChart'));

const ms = (v: number | null | undefined) => duration(v ?? null);
const words = (s: string) => s.replace(/_/g, ' ');

function Panel({ id, title, children, actions }: { id: string; title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card dash-panel" aria-labelledby={id}>
      <div className="dash-panel-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

function Totals({ data }: { data: Insights }) {
  const t = data.totals;
  const tiles: [string, string][] = [
    ['Runs', t.runs.toLocaleString()],
    ['Success rate', percent(t.success_rate)],
    ['Failed', t.failed.toLocaleString()],
    ['Cancelled', t.cancelled.toLocaleString()],
    ['In progress', t.in_progress.toLocaleString()],
    ['Duration p50', ms(t.p50_ms)],
    ['Duration p95', ms(t.p95_ms)],
  ];
  return (
    <dl className="dash-tiles" aria-label="Totals over the period">
      {tiles.map(([k, v]) => (
        <div key={k} className="dash-tile">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function RunsPerBucket({ data, period }: { data: Insights; period: Period }) {
  const [table, setTable] = useState(false);
  const rows: ChartRow[] = fillSeries(data.series, data.from, data.to, data.bucket);
  const statuses = statusesIn(data.series);
  const hourly = data.bucket === 'hour';
  const label = (at: number) => {
    const d = new Date(at);
    return hourly
      ? d.toLocaleString(undefined, period.hours > 24 ? { weekday: 'short', hour: '2-digit', minute: '2-digit' } : { hour: '2-digit', minute: '2-digit' })
      : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
  };
  const title = hourly ? 'Runs per hour by status' : 'Runs per day by status';
  const summary = `${title}: ${data.totals.runs} runs, ${statuses.map((s) => `${rows.reduce((n, r) => n + (r[s] ?? 0), 0)} ${words(s)}`).join(', ') || 'none'}.`;
  return (
    <Panel
      id="dash-series"
      title={title}
      actions={
        <Button aria-pressed={table} onClick={() => setTable((t) => !t)}>
          Table view
        </Button>
      }
    >
      {data.totals.runs === 0 ? (
        <Empty>No runs in this period. Runs started from a job’s page, a schedule or the API show here.</Empty>
      ) : table ? (
        <DataTable
          caption={title}
          captionHidden={false}
          rows={rows.filter((r) => r.total > 0)}
          rowKey={(r) => String(r.at)}
          columns={[
            { key: 'at', header: hourly ? 'Hour' : 'Day', cell: (r) => label(r.at) },
            ...statuses.map((s) => ({ key: s, header: words(s), numeric: true, cell: (r: ChartRow) => r[s] ?? 0 })),
            { key: 'total', header: 'Total', numeric: true, cell: (r) => r.total },
          ]}
        />
      ) : (
        <div role="img" aria-label={`${summary} Choose “Table view” for the numbers.`}>
          <Suspense fallback={<Loading what="the chart" />}>
            <RunsChart rows={rows} statuses={statuses} bucketLabel={label} />
          </Suspense>
        </div>
      )}
    </Panel>
  );
}

function JobTable({ rows, caption, empty }: { rows: JobStats[]; caption: string; empty: string }) {
  return (
    <DataTable
      caption={caption}
      rows={rows}
      rowKey={(j) => j.job_id}
      empty={empty}
      columns={[
        { key: 'job', header: 'Job', cell: (j) => <Link to={`/jobs/${j.job_id}`}>{j.job_name}</Link> },
        { key: 'runs', header: 'Runs', numeric: true, cell: (j) => j.runs },
        { key: 'rate', header: 'Success', numeric: true, cell: (j) => percent(j.success_rate) },
        { key: 'failed', header: 'Failed', numeric: true, cell: (j) => j.failed },
        { key: 'p50', header: 'p50', numeric: true, cell: (j) => ms(j.p50_ms) },
        { key: 'p95', header: 'p95', numeric: true, cell: (j) => ms(j.p95_ms) },
      ]}
    />
  );
}

function Workers() {
  const q = useQuery({ queryKey: keys.workers, queryFn: fetchWorkers, refetchInterval: 10_000 });
  return (
    <Panel id="dash-workers" title="Workers">
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="workers" />
      ) : (
        <DataTable
          caption="Live workers and their load"
          rows={q.data?.items ?? []}
          rowKey={(w) => w.id}
          empty="No worker is connected. Start one with `opsconductor worker`."
          columns={[
            { key: 'pool', header: 'Pool', cell: (w) => w.pool },
            { key: 'id', header: 'Worker', cell: (w) => <span className="mono" title={w.id}>{shortId(w.id)}</span> },
            {
              key: 'load',
              header: 'Load',
              cell: (w) => (
                <span className="dash-load">
                  <meter min={0} max={Math.max(w.concurrency, 1)} value={w.in_flight} aria-label={`Load of worker ${shortId(w.id)}`} />
                  {w.in_flight} / {w.concurrency}
                </span>
              ),
            },
            { key: 'state', header: 'State', cell: (w) => (w.draining ? 'draining' : 'ready') },
            { key: 'seen', header: 'Last heartbeat', cell: (w) => <Time at={w.last_heartbeat_at} /> },
          ]}
        />
      )}
    </Panel>
  );
}

function Upcoming() {
  const q = useQuery({ queryKey: keys.upcoming, queryFn: fetchUpcoming, refetchInterval: 60_000 });
  const jobs = useQuery({ queryKey: keys.jobs, queryFn: fetchJobNames, staleTime: 60_000 });
  const items = (q.data?.items ?? []).filter((i) => i.kind !== 'skipped_gap').slice(0, 10);
  return (
    <Panel id="dash-upcoming" title="Upcoming fires (next 24 hours)">
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="upcoming fires" />
      ) : (
        <DataTable
          caption="Schedule fires in the next 24 hours"
          rows={items}
          rowKey={(i) => `${i.schedule_id}-${i.at}`}
          empty={
            <>
              Nothing is scheduled in the next 24 hours. <Link to="/schedules">Schedules</Link>
            </>
          }
          columns={[
            { key: 'at', header: 'When', cell: (i) => <Time at={i.at} /> },
            { key: 'schedule', header: 'Schedule', cell: (i) => <Link to={`/schedules/${i.schedule_id}`}>{i.schedule_name}</Link> },
            { key: 'job', header: 'Job', cell: (i) => <Link to={`/jobs/${i.job_id}`}>{jobs.data?.get(i.job_id) ?? shortId(i.job_id)}</Link> },
          ]}
        />
      )}
      {q.data && q.data.items.length > 10 && (
        <p className="muted small">
          {q.data.items.length - 10} more: <Link to="/schedules">see the calendar</Link>.
        </p>
      )}
    </Panel>
  );
}

function Activity() {
  const a = useActivity();
  const happenings = feed(a.runs, 15);
  return (
    <Panel id="dash-activity" title="Live activity">
      <ProblemAlert error={a.error} />
      <p className="muted small" aria-live="polite">
        {a.live ? 'Live: runs appear as they start and end.' : 'Connecting to the event stream…'}
      </p>
      {a.pending ? (
        <Loading what="activity" />
      ) : happenings.length === 0 ? (
        <Empty>Nothing has run yet. Runs appear here as they start and end.</Empty>
      ) : (
        <ul className="dash-feed" aria-label="Runs starting and ending">
          {happenings.map((h) => (
            <li key={h.key}>
              <Time at={h.at} /> <Link to={`/runs/${h.run.id}`}>{h.run.job_name}</Link>{' '}
              <span className="mono muted small">{shortId(h.run.id)}</span> {h.what === 'finished' ? 'ended' : h.what}
              {h.what === 'finished' && (
                <>
                  {' '}
                  <StatusBadge status={h.run.status} />
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function Dashboard() {
  useTitle('Dashboard');
  const [sp, setSp] = useSearchParams();
  const period = periodOf(sp.get('period'));
  const q = useQuery({ queryKey: keys.insights(period.id), queryFn: () => fetchInsights(period), refetchInterval: 60_000 });
  const d = q.data;
  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={d ? `${period.label}, to ${new Date(d.to).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}` : undefined}
        actions={
          <div className="dash-period">
          <SelectField
            label="Period"
            value={period.id}
            onChange={(e) => setSp(e.target.value === '24h' ? new URLSearchParams() : new URLSearchParams({ period: e.target.value }))}
            options={PERIODS.map((p) => ({ value: p.id, label: p.label }))}
          />
          </div>
        }
      />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="insights" />}
      {d && (
        <>
          <Totals data={d} />
          <RunsPerBucket data={d} period={period} />
          <div className="dash-grid">
            <Activity />
            <Workers />
          </div>
          <Panel id="dash-jobs" title="Jobs over the period">
            <JobTable rows={d.jobs} caption="Success rate and duration per job" empty="No job ran in this period." />
          </Panel>
          <div className="dash-grid">
            <Panel id="dash-slowest" title="Slowest jobs (p95)">
              <JobTable rows={d.slowest} caption="The slowest jobs by p95 duration" empty="No finished run yet." />
            </Panel>
            <Panel id="dash-failing" title="Most failing jobs">
              <JobTable rows={d.most_failing} caption="The jobs with the most failed runs" empty="No run failed in this period." />
            </Panel>
          </div>
          <Panel id="dash-baseline" title="Runs slower than their baseline">
            <DataTable
              caption="Runs slower than their job's baseline"
              rows={d.slower_than_baseline}
              rowKey={(r) => r.run_id}
              empty="No run took longer than usual (a baseline needs at least 3 finished runs of the job in the 30 days before)."
              columns={[
                { key: 'run', header: 'Run', cell: (r) => <Link to={`/runs/${r.run_id}`} className="mono">{shortId(r.run_id)}</Link> },
                { key: 'job', header: 'Job', cell: (r) => <Link to={`/jobs/${r.job_id}`}>{r.job_name}</Link> },
                { key: 'status', header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
                { key: 'took', header: 'Took', numeric: true, cell: (r) => ms(r.duration_ms) },
                { key: 'base', header: 'Baseline', numeric: true, cell: (r) => `${ms(r.baseline_ms)} (${r.baseline === 'p95' ? 'p95' : '2× median'})` },
                { key: 'at', header: 'Accepted', cell: (r) => <Time at={r.created_at} /> },
              ]}
            />
          </Panel>
          <Upcoming />
        </>
      )}
    </>
  );
}
