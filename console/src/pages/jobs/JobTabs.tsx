// The read-only tabs of a job page: its definition, runs, schedules,
// notification rules and dependencies.
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { DataTable } from '../../ui/DataTable';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { duration, shortId } from '../../lib/format';
import { exportText, fetchDependencies, fetchRules, fetchRuns, fetchSchedules, keys, rulesFor, type JobView } from './api';

export function DefinitionTab({ job }: { job: JobView }) {
  const q = useQuery({ queryKey: [...keys.one(job.id), 'yaml', job.current_version], queryFn: () => exportText(job.id, 'yaml') });
  return (
    <div className="stack">
      <h2>Definition (version {job.current_version})</h2>
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="the definition" />
      ) : (
        q.data !== undefined && (
          <pre className="jobs-yaml" tabIndex={0} aria-label="Job definition in YAML">
            <code>{q.data}</code>
          </pre>
        )
      )}
    </div>
  );
}

export function RunsTab({ jobId }: { jobId: string }) {
  const q = useQuery({ queryKey: keys.runs(jobId), queryFn: () => fetchRuns(jobId) });
  return (
    <div className="stack">
      <h2>Recent runs</h2>
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="runs" />
      ) : (
        <DataTable
          rows={q.data?.items ?? []}
          caption="The last 20 runs of this job"
          rowKey={(r) => r.id}
          empty="This job has not run yet."
          columns={[
            { key: 'id', header: 'Run', cell: (r) => <Link to={`/runs/${r.id}`}>{shortId(r.id)}</Link> },
            { key: 'status', header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
            { key: 'v', header: 'Version', cell: (r) => r.job_version, numeric: true },
            { key: 'at', header: 'Accepted', cell: (r) => <Time at={r.created_at} /> },
            { key: 'took', header: 'Duration', cell: (r) => duration(r.duration_ms), numeric: true },
          ]}
        />
      )}
    </div>
  );
}

export function SchedulesTab({ jobId }: { jobId: string }) {
  const q = useQuery({ queryKey: keys.schedules(jobId), queryFn: () => fetchSchedules(jobId) });
  return (
    <div className="stack">
      <h2>Schedules</h2>
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="schedules" />
      ) : (
        <DataTable
          rows={q.data?.items ?? []}
          caption="Schedules of this job"
          rowKey={(s) => s.id}
          empty="No schedule runs this job."
          columns={[
            { key: 'name', header: 'Name', cell: (s) => <Link to={`/schedules/${s.id}`}>{s.name}</Link> },
            { key: 'cron', header: 'Cron', cell: (s) => <code>{s.cron}</code> },
            { key: 'state', header: 'State', cell: (s) => (!s.enabled ? 'Disabled' : s.paused ? 'Paused' : 'Enabled') },
            { key: 'next', header: 'Next fire', cell: (s) => <Time at={s.next_fire_at} /> },
          ]}
        />
      )}
    </div>
  );
}

export function RulesTab({ job }: { job: JobView }) {
  const q = useQuery({ queryKey: keys.rules, queryFn: fetchRules });
  const rules = q.data ? rulesFor(q.data, job) : [];
  return (
    <div className="stack">
      <h2>Notification rules</h2>
      <p className="muted">Rules that name this job, one of its tags or its owner. Rules without job conditions apply to every job and are not listed.</p>
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="rules" />
      ) : (
        <DataTable
          rows={rules}
          caption="Notification rules naming this job"
          rowKey={(r) => r.id}
          empty="No rule names this job."
          columns={[
            { key: 'name', header: 'Name', cell: (r) => <Link to={`/notifications/rules/${r.id}`}>{r.name}</Link> },
            { key: 'on', header: 'Triggers', cell: (r) => r.triggers.map((t) => t.replace(/_/g, ' ')).join(', ') },
            { key: 'enabled', header: 'Enabled', cell: (r) => (r.enabled ? 'Yes' : 'No') },
          ]}
        />
      )}
    </div>
  );
}

export function DependenciesTab({ jobId }: { jobId: string }) {
  const q = useQuery({ queryKey: keys.deps(jobId), queryFn: () => fetchDependencies(jobId) });
  const other = (id: string, name: string | null | undefined) => <Link to={`/jobs/${id}`}>{name ?? shortId(id)}</Link>;
  return (
    <div className="stack">
      <h2>Dependencies</h2>
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="dependencies" />
      ) : (
        q.data && (
          <>
            <h3>Started by</h3>
            <DataTable
              rows={q.data.upstream}
              caption="Jobs whose end starts this job"
              rowKey={(d) => d.id}
              empty="No job starts this one."
              columns={[
                { key: 'job', header: 'Upstream job', cell: (d) => other(d.upstream_job_id, d.upstream_job_name) },
                { key: 'on', header: 'On', cell: (d) => String(d.on).replace(/_/g, ' ') },
                { key: 'enabled', header: 'Enabled', cell: (d) => (d.enabled ? 'Yes' : 'No') },
              ]}
            />
            <h3>Starts</h3>
            <DataTable
              rows={q.data.downstream}
              caption="Jobs this job's end starts"
              rowKey={(d) => d.id}
              empty="This job starts no other."
              columns={[
                { key: 'job', header: 'Downstream job', cell: (d) => other(d.downstream_job_id, d.downstream_job_name) },
                { key: 'on', header: 'On', cell: (d) => String(d.on).replace(/_/g, ' ') },
                { key: 'enabled', header: 'Enabled', cell: (d) => (d.enabled ? 'Yes' : 'No') },
              ]}
            />
          </>
        )
      )}
    </div>
  );
}
