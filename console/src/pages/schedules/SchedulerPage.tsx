import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { useSession } from '../../auth/session';
import { dateTime, duration, shortId } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { Dialog } from '../../ui/Dialog';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { fetchSchedules, fetchStatus, keys, setSchedulerPaused } from './queries';
import { RoomNav } from './RoomNav';

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : duration(v));

/** `/schedules/scheduler`: the pause, the leader, replicas, lag and recent fires; admins pause and resume. */
export function SchedulerPage() {
  useTitle('Scheduler');
  const { can } = useSession();
  const qc = useQueryClient();
  const [ask, setAsk] = useState(false);
  const q = useQuery({ queryKey: keys.status, queryFn: fetchStatus, refetchInterval: 5_000 });
  const schedules = useQuery({ queryKey: keys.list(), queryFn: () => fetchSchedules() });
  const names = new Map((schedules.data?.items ?? []).map((s) => [s.id, s.name]));
  const toggle = useMutation({
    mutationFn: (paused: boolean) => setSchedulerPaused(paused),
    onSuccess: async () => {
      setAsk(false);
      await qc.invalidateQueries({ queryKey: keys.status });
    },
  });
  const s = q.data;
  return (
    <>
      <PageHeader
        title="Scheduler"
        subtitle="The replicas that fire schedules: one leads, the others stand by."
        actions={
          can('admin') &&
          s &&
          (s.paused ? (
            <Button variant="primary" busy={toggle.isPending} onClick={() => toggle.mutate(false)}>
              Resume every schedule
            </Button>
          ) : (
            <Button variant="danger" onClick={() => setAsk(true)}>
              Pause every schedule
            </Button>
          ))
        }
      />
      <RoomNav />
      <ProblemAlert error={q.error ?? toggle.error} />
      {q.isPending && <Loading what="the scheduler's status" />}
      {s && (
        <>
          {s.paused && (
            <div className="alert alert-error" role="status">
              The scheduler is paused: no schedule fires. On resume each schedule&apos;s misfire policy decides about the missed fires.
            </div>
          )}
          <div className="grid">
            <section className="card" aria-labelledby="sc-leader">
              <h2 id="sc-leader">Leader</h2>
              {s.leader ? (
                <dl className="sched-dl">
                  <dt>Replica</dt>
                  <dd className="mono">{s.leader.replica_id}</dd>
                  <dt>Term</dt>
                  <dd>{s.leader.term}</dd>
                  <dt>Lease until</dt>
                  <dd>{dateTime(s.leader.expires_at)}</dd>
                </dl>
              ) : (
                <p className="alert alert-error">No replica holds the lease: nothing fires.</p>
              )}
            </section>
            <section className="card" aria-labelledby="sc-load">
              <h2 id="sc-load">Load and lag</h2>
              <dl className="sched-dl">
                <dt>Schedules loaded</dt>
                <dd>{s.schedules_loaded ?? '—'}</dd>
                <dt>Active</dt>
                <dd>{s.schedules_active ?? '—'}</dd>
                <dt>Next fire</dt>
                <dd>
                  {s.next_fire ? (
                    <>
                      <Link to={`/schedules/${s.next_fire.schedule_id}`}>{names.get(s.next_fire.schedule_id) ?? 'a schedule'}</Link> <Time at={s.next_fire.at} />
                    </>
                  ) : (
                    '—'
                  )}
                </dd>
                <dt>Last fire lag</dt>
                <dd>{ms(s.last_lag_ms)}</dd>
                <dt>p99 lag (last minute)</dt>
                <dd>{ms(s.lag_p99_ms)}</dd>
              </dl>
            </section>
          </div>
          <h2>Replicas</h2>
          <DataTable
            caption="Scheduler replicas seen in the last 15 seconds"
            rows={s.replicas}
            rowKey={(r) => r.replica_id}
            empty="No replica reported in the last 15 seconds."
            columns={[
              { key: 'id', header: 'Replica', cell: (r) => <span className="mono">{r.replica_id}</span> },
              { key: 'role', header: 'Role', cell: (r) => (r.leader ? <span className="badge status-succeeded">leader</span> : 'standby') },
              { key: 'version', header: 'Version', cell: (r) => r.version },
              { key: 'up', header: 'Started', cell: (r) => <Time at={r.started_at} /> },
              { key: 'seen', header: 'Seen', cell: (r) => <Time at={r.seen_at} /> },
            ]}
          />
          <h2>Recent fires</h2>
          <DataTable
            caption="The last fires, skips and misfires, newest first"
            rows={s.recent_fires}
            rowKey={(f) => f.id}
            empty="None yet."
            columns={[
              { key: 'at', header: 'Fire instant', cell: (f) => dateTime(f.fire_at) },
              { key: 'schedule', header: 'Schedule', cell: (f) => <Link to={`/schedules/${f.schedule_id}`}>{names.get(f.schedule_id) ?? shortId(f.schedule_id)}</Link> },
              { key: 'kind', header: 'What happened', cell: (f) => <span className={`badge ${f.kind === 'fired' ? 'status-succeeded' : 'status-skipped'}`}>{f.kind}</span> },
              { key: 'reason', header: 'Reason', cell: (f) => f.reason?.replace(/_/g, ' ') ?? '—' },
              { key: 'lag', header: 'Lag', numeric: true, cell: (f) => ms(f.lag_ms) },
            ]}
          />
        </>
      )}
      <Dialog
        open={ask}
        title="Pause every schedule?"
        onClose={() => setAsk(false)}
        footer={
          <>
            <Button onClick={() => setAsk(false)}>Keep firing</Button>
            <Button variant="danger" busy={toggle.isPending} onClick={() => toggle.mutate(true)}>
              Pause
            </Button>
          </>
        }
      >
        <p>Nothing fires until someone resumes. Each schedule&apos;s misfire policy then decides about the fires missed meanwhile.</p>
        <ProblemAlert error={toggle.error} />
      </Dialog>
    </>
  );
}
