import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../auth/session';
import { dateTime, shortId } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { fetchChannels, fetchStatus, keys, setDeliveryPaused } from './queries';
import { RoomNav } from './RoomNav';

type Replica = Record<string, unknown>;
const text = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number | boolean));

/** `/notifications/status` (operators and admins): replicas, queues and failing channels; admins pause delivery. */
export function NotifierStatus() {
  useTitle('Notifier');
  const { can } = useSession();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.status, queryFn: fetchStatus, enabled: can('operator'), refetchInterval: 5_000 });
  const channels = useQuery({ queryKey: keys.channels, queryFn: fetchChannels, enabled: can('operator') });
  const names = new Map((channels.data ?? []).map((c) => [c.id, c.name]));
  const toggle = useMutation({ mutationFn: setDeliveryPaused, onSuccess: () => qc.invalidateQueries({ queryKey: keys.status }) });
  if (!can('operator')) return <ProblemAlert error={new Error('Operators and admins see the notifier.')} title="Not allowed" />;
  const s = q.data;
  const replicas = (s?.replicas ?? []) as Replica[];
  return (
    <>
      <PageHeader
        title="Notifier"
        subtitle="The replicas that decide and deliver, their queues and failing channels."
        actions={
          can('admin') &&
          s && (
            <Button variant={s.paused ? 'primary' : 'danger'} busy={toggle.isPending} onClick={() => toggle.mutate(!s.paused)}>
              {s.paused ? 'Resume delivery' : 'Pause delivery'}
            </Button>
          )
        }
      />
      <RoomNav />
      <ProblemAlert error={q.error ?? toggle.error} />
      {q.isPending && <Loading what="the notifier's status" />}
      {s && (
        <>
          <p role="status" className={s.paused ? 'alert alert-error' : 'alert alert-info'}>
            {s.paused ? `Delivery is paused${s.paused_by ? ` (by ${s.paused_by})` : ''}: decisions go on, sends wait.` : 'Delivery is on.'} Queue depth: {s.queue_depth}.
          </p>
          <h2>Replicas</h2>
          <DataTable
            caption="Notifier replicas"
            rows={replicas}
            rowKey={(r) => text(r.replica)}
            empty="No replica reports: is a notifier running?"
            columns={[
              { key: 'replica', header: 'Replica', cell: (r) => <span className="mono small">{text(r.replica)}</span> },
              { key: 'started', header: 'Started', cell: (r) => (typeof r.started_at === 'string' ? <Time at={r.started_at} /> : '—') },
              { key: 'seen', header: 'Seen', cell: (r) => (typeof r.seen_at === 'string' ? <Time at={r.seen_at} /> : '—') },
              { key: 'flight', header: 'In flight', numeric: true, cell: (r) => text(r.in_flight) },
              { key: 'sent', header: 'Sent', numeric: true, cell: (r) => text(r.sent) },
              { key: 'failed', header: 'Failed', numeric: true, cell: (r) => text(r.failed) },
            ]}
          />
          <h2>Queues</h2>
          <DataTable
            caption="Notifier queues"
            rows={s.queues}
            rowKey={(x) => x.consumer}
            columns={[
              { key: 'c', header: 'Consumer', cell: (x) => x.consumer },
              { key: 'p', header: 'Pending', numeric: true, cell: (x) => x.pending },
              { key: 'a', header: 'Unacknowledged', numeric: true, cell: (x) => x.ack_pending },
              { key: 'e', header: 'Error', cell: (x) => x.error ?? '—' },
            ]}
          />
          <h2>Failing channels (24 h)</h2>
          <DataTable
            caption="Channels that failed in the last 24 hours"
            rows={s.recent_failures}
            rowKey={(x) => x.channel_id}
            empty="No failures in the last 24 hours."
            columns={[
              { key: 'c', header: 'Channel', cell: (x) => names.get(x.channel_id) ?? `${x.channel_kind} ${shortId(x.channel_id)}` },
              { key: 'f', header: 'Failed attempts', numeric: true, cell: (x) => x.failed_attempts },
              { key: 'd', header: 'Dead letters', numeric: true, cell: (x) => x.dead_lettered },
              { key: 'e', header: 'Last error', cell: (x) => <span className="small">{x.last_error ?? '—'}</span> },
              { key: 'w', header: 'When', cell: (x) => dateTime(x.last_failed_at) },
            ]}
          />
        </>
      )}
    </>
  );
}
