import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { readCron } from './cron';
import { fetchSchedules, keys, stateOf } from './queries';
import { RoomNav } from './RoomNav';

/** `/schedules`: every schedule with its state and next fire. */
export function ScheduleList() {
  useTitle('Schedules');
  const { can } = useSession();
  const q = useQuery({ queryKey: keys.list(), queryFn: () => fetchSchedules(), refetchInterval: 30_000 });
  return (
    <>
      <PageHeader
        title="Schedules"
        subtitle="Cron calendars in a time zone that start runs of a job."
        actions={can('operator') && <Link className="btn btn-primary" to="new">New schedule</Link>}
      />
      <RoomNav />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="schedules" />}
      {q.data && (
        <DataTable
          caption="Schedules"
          rows={q.data.items}
          rowKey={(s) => s.id}
          empty={can('operator') ? 'No schedules yet. Create one to run a job on a calendar.' : 'No schedules yet.'}
          columns={[
            { key: 'name', header: 'Name', cell: (s) => <Link to={s.id}>{s.name}</Link> },
            { key: 'job', header: 'Job', cell: (s) => <Link to={`/jobs/${s.job_id}`}>{s.job_name ?? s.job_id}</Link> },
            {
              key: 'cron',
              header: 'When',
              cell: (s) => {
                const r = readCron(s.cron);
                return (
                  <>
                    <code>{s.cron}</code>
                    <div className="muted small">{r.ok ? r.text : ''} ({s.time_zone})</div>
                  </>
                );
              },
            },
            { key: 'state', header: 'State', cell: (s) => <StatusBadge status={stateOf(s)} /> },
            { key: 'next', header: 'Next fire', cell: (s) => <Time at={s.next_fire_at} /> },
          ]}
        />
      )}
    </>
  );
}
