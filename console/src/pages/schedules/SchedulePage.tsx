import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { dateTime, duration, shortId } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { EditAndDelete } from '../../ui/EditAndDelete';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { readCron } from './cron';
import { fetchFires, fetchNext, fetchSchedule, fetchScheduleRuns, kindText, keys, schedulePath, setPaused, stateOf, type Schedule } from './queries';
import { RoomNav } from './RoomNav';

function Definition({ s }: { s: Schedule }) {
  const r = readCron(s.cron);
  const targets = s.targets;
  return (
    <section className="card" aria-labelledby="s-def">
      <h2 id="s-def">Definition</h2>
      <dl className="sched-dl">
        <dt>Cron</dt>
        <dd>
          <code>{s.cron}</code> — {r.ok ? r.text : r.error}
        </dd>
        <dt>Time zone</dt>
        <dd>{s.time_zone}</dd>
        <dt>Job</dt>
        <dd>
          <Link to={`/jobs/${s.job_id}`}>{s.job_name ?? s.job_id}</Link>
        </dd>
        <dt>Daylight saving</dt>
        <dd>
          gap: {s.dst.gap ?? 'shift'}, overlap: {s.dst.overlap ?? 'first'}
        </dd>
        <dt>Missed fires</dt>
        <dd>
          {(s.misfire.mode ?? 'run_once').replace('_', ' ')}, at most {duration((s.misfire.max_age_secs ?? 3600) * 1000)} late
        </dd>
        {(s.start_at || s.end_at) && (
          <>
            <dt>Between</dt>
            <dd>
              {s.start_at ? dateTime(s.start_at) : 'now'} and {s.end_at ? dateTime(s.end_at) : 'no end'}
            </dd>
          </>
        )}
        <dt>Targets</dt>
        <dd>
          {targets
            ? [
                targets.targets?.length ? `${targets.targets.length} target(s)` : '',
                targets.groups?.length ? `${targets.groups.length} group(s)` : '',
                targets.tags?.length ? `tags ${targets.tags.join(', ')}` : '',
              ]
                .filter(Boolean)
                .join('; ') || 'none'
            : "the job's own"}
        </dd>
        <dt>Parameters</dt>
        <dd>
          {Object.keys(s.parameters).length === 0 && s.secret_parameters.length === 0 && 'none'}
          {Object.entries(s.parameters).map(([k, v]) => (
            <div key={k}>
              <code>{k}</code> = <code>{JSON.stringify(v)}</code>
            </div>
          ))}
          {s.secret_parameters.map((k) => (
            <div key={k}>
              <code>{k}</code> = <span className="muted">secret (set)</span>
            </div>
          ))}
        </dd>
        {s.description && (
          <>
            <dt>Description</dt>
            <dd>{s.description}</dd>
          </>
        )}
      </dl>
    </section>
  );
}

/** `/schedules/:id`: the definition, next fires in its zone, the runs it
 * started and every fire, skip and misfire; pause, resume, edit, delete. */
export function SchedulePage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const q = useQuery({ queryKey: keys.one(id), queryFn: () => fetchSchedule(id), refetchInterval: 30_000 });
  const next = useQuery({ queryKey: [...keys.next(id), q.data?.revision], queryFn: () => fetchNext(id, 5), enabled: Boolean(q.data), refetchInterval: 30_000 });
  const fires = useQuery({ queryKey: keys.fires(id), queryFn: () => fetchFires(id, 50), refetchInterval: 10_000 });
  const runs = useQuery({
    queryKey: keys.runs(id),
    queryFn: () => fetchScheduleRuns(q.data ?? { id, job_id: '' }),
    enabled: Boolean(q.data),
    refetchInterval: 5_000,
  });
  useTitle(q.data?.name ?? 'Schedule');
  const pause = useMutation({
    mutationFn: (paused: boolean) => setPaused(id, paused),
    onSuccess: (s) => {
      qc.setQueryData(keys.one(id), s);
      void qc.invalidateQueries({ queryKey: keys.all });
    },
  });
  const del = useMutation({
    mutationFn: () => api.del(schedulePath(id)),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.all });
      void navigate('/schedules');
    },
  });
  if (q.isPending) return <Loading what="the schedule" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const s = q.data;
  const state = stateOf(s);
  return (
    <>
      <PageHeader
        title={s.name}
        subtitle={
          <>
            <StatusBadge status={state} /> Runs <Link to={`/jobs/${s.job_id}`}>{s.job_name ?? 'its job'}</Link>
            {s.next_fire_at && (
              <>
                {' '}
                · next fire <Time at={s.next_fire_at} />
              </>
            )}
          </>
        }
        actions={
          can('operator') && (
            <EditAndDelete onDelete={() => setConfirm(true)}>
              {s.paused ? (
                <Button variant="primary" busy={pause.isPending} onClick={() => pause.mutate(false)}>
                  Resume
                </Button>
              ) : (
                <Button busy={pause.isPending} onClick={() => pause.mutate(true)}>
                  Pause
                </Button>
              )}
            </EditAndDelete>
          )
        }
      />
      <RoomNav />
      <ProblemAlert error={pause.error} />
      {s.paused && (
        <div className="alert alert-info" role="status">
          Paused: nothing fires until it is resumed; then its misfire policy decides about the fires missed meanwhile.
        </div>
      )}
      <div className="sched-columns">
        <Definition s={s} />
        <section className="card" aria-labelledby="s-next">
          <h2 id="s-next">Next fires</h2>
          <ProblemAlert error={next.error} />
          {next.isPending && <Loading what="next fires" />}
          {next.data && (
            <DataTable
              caption={`Next fires of ${s.name}`}
              rows={next.data.items.filter((o) => Date.parse(o.at) > Date.now() - 1000)}
              rowKey={(o) => o.at}
              empty={state === 'active' ? 'No further fire.' : `None while ${state}.`}
              columns={[
                { key: 'local', header: `In ${s.time_zone}`, cell: (o) => <span className={o.kind === 'skipped_gap' ? 'cal-skipped' : undefined}>{o.local.replace('T', ' ')}</span> },
                { key: 'mine', header: 'Your time', cell: (o) => dateTime(o.at) },
                { key: 'kind', header: 'Kind', cell: (o) => (o.kind === 'regular' ? <span className="muted">regular</span> : <span className="badge status-skipped">{kindText(o.kind)}</span>) },
              ]}
            />
          )}
        </section>
      </div>
      <section aria-labelledby="s-runs">
        <h2 id="s-runs">Runs it started</h2>
        <ProblemAlert error={runs.error} />
        {runs.data && (
          <DataTable
            caption={`Runs started by ${s.name}`}
            rows={runs.data}
            rowKey={(r) => r.id}
            empty="No run yet."
            columns={[
              { key: 'id', header: 'Run', cell: (r) => <Link to={`/runs/${r.id}`}>{shortId(r.id)}</Link> },
              { key: 'status', header: 'Status', cell: (r) => <StatusBadge status={r.status} /> },
              { key: 'trigger', header: 'Trigger', cell: (r) => r.trigger.kind },
              { key: 'at', header: 'Created', cell: (r) => <Time at={r.created_at} /> },
              { key: 'took', header: 'Duration', numeric: true, cell: (r) => duration(r.duration_ms) },
            ]}
          />
        )}
      </section>
      <section aria-labelledby="s-fires">
        <h2 id="s-fires">Past fires, skips and misfires</h2>
        <ProblemAlert error={fires.error} />
        {fires.data && (
          <DataTable
            caption={`Fires of ${s.name}, newest first`}
            rows={fires.data.items}
            rowKey={(f) => f.id}
            empty="Nothing handled yet."
            columns={[
              { key: 'at', header: 'Fire instant', cell: (f) => dateTime(f.fire_at) },
              {
                key: 'kind',
                header: 'What happened',
                cell: (f) => (
                  <>
                    <span className={`badge ${f.kind === 'fired' ? 'status-succeeded' : 'status-skipped'}`}>{f.kind}</span>
                    {f.catch_up && <span className="muted"> catch-up</span>}
                    {f.count > 1 && <span className="muted"> ×{f.count}{f.count_capped ? '+' : ''}</span>}
                  </>
                ),
              },
              { key: 'reason', header: 'Reason', cell: (f) => (f.reason ? f.reason.replace(/_/g, ' ') : f.deferred_by ? 'deferred by a window' : '—') },
              { key: 'lag', header: 'Lag', numeric: true, cell: (f) => (f.lag_ms === null || f.lag_ms === undefined ? '—' : duration(f.lag_ms)) },
              { key: 'run', header: 'Run', cell: (f) => (f.run_id ? <Link to={`/runs/${f.run_id}`}>{shortId(f.run_id)}</Link> : '—') },
            ]}
          />
        )}
      </section>
      <ConfirmDialog
        open={confirm}
        title={`Delete ${s.name}?`}
        onClose={() => setConfirm(false)}
        onConfirm={() => del.mutate()}
        busy={del.isPending}
        error={del.error}
      >
        <p>It will not fire again. Runs it started stay.</p>
      </ConfirmDialog>
    </>
  );
}
