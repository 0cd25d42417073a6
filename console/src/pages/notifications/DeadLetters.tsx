import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Empty, Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { fetchDeadLetters, keys, resendMany, words, type Notification } from './queries';
import { RoomNav } from './RoomNav';

/** `/notifications/dead-letters` (admins): messages every attempt failed for; resend one or many. */
export function DeadLetters() {
  useTitle('Dead letters');
  const { can } = useSession();
  const qc = useQueryClient();
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<string[]>([]);
  const q = useQuery({ queryKey: keys.deadLetters(offset), queryFn: () => fetchDeadLetters(offset), enabled: can('admin'), refetchInterval: 15_000 });
  const resend = useMutation({
    mutationFn: (ids: string[]) => resendMany(ids),
    onSuccess: async () => {
      setChosen([]);
      await qc.invalidateQueries({ queryKey: ['notifications'] });
    },
  });
  if (!can('admin')) return <ProblemAlert error={new Error('Only admins see dead letters.')} title="Not allowed" />;
  const items = q.data?.items ?? [];
  const total = q.data?.total ?? 0;
  const toggle = (id: string, on: boolean) => setChosen((c) => (on ? [...c, id] : c.filter((x) => x !== id)));
  return (
    <>
      <PageHeader title="Dead letters" subtitle="Notifications every attempt failed for. A resend tries again with the stored message." />
      <RoomNav />
      <div className="row" role="group" aria-label="Selected dead letters">
        <Button variant="primary" disabled={chosen.length === 0} busy={resend.isPending} onClick={() => resend.mutate(chosen)}>
          Resend {chosen.length > 0 ? chosen.length : ''} selected
        </Button>
      </div>
      <ProblemAlert error={q.error ?? resend.error} />
      {resend.data && (
        <div className="alert alert-info" role="status">
          {resend.data.resends.length} resend(s) asked for{resend.data.skipped.length ? `; ${resend.data.skipped.length} were no longer dead letters` : ''}.
        </div>
      )}
      {q.isPending && <Loading what="dead letters" />}
      {q.data && items.length === 0 && <Empty>No dead letters.</Empty>}
      {q.data && items.length > 0 && (
        <DataTable
          caption="Dead-lettered notifications, newest first"
          rows={items}
          rowKey={(n) => n.id}
          empty="No dead letters."
          columns={[
            {
              key: 'pick',
              header: <span className="sr-only">Select</span>,
              cell: (n: Notification) => <input type="checkbox" aria-label={`Select ${n.subject || n.id}`} checked={chosen.includes(n.id)} onChange={(e) => toggle(n.id, e.target.checked)} />,
            },
            { key: 'at', header: 'Last attempt', cell: (n) => <Time at={n.last_at} /> },
            { key: 'subject', header: 'Subject', cell: (n) => <Link to={`/notifications/${n.id}`}>{n.subject || '(no subject)'}</Link> },
            { key: 'channel', header: 'Channel', cell: (n) => n.channel_kind },
            { key: 'to', header: 'Recipient', cell: (n) => n.recipient },
            { key: 'trigger', header: 'Trigger', cell: (n) => words(n.trigger ?? n.origin) },
            { key: 'error', header: 'Error', cell: (n) => <span className="small">{n.error ?? '—'}</span> },
            {
              key: 'one',
              header: <span className="sr-only">Resend</span>,
              cell: (n) => (
                <Button onClick={() => resend.mutate([n.id])} disabled={resend.isPending} aria-label={`Resend ${n.subject || n.id}`}>
                  Resend
                </Button>
              ),
            },
          ]}
        />
      )}
      {total > 50 && (
        <div className="ntf-pager" role="group" aria-label="Pages">
          <Button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 50))}>
            Newer
          </Button>
          <span className="muted">
            {offset + 1}–{Math.min(offset + 50, total)} of {total}
          </span>
          <Button disabled={offset + 50 >= total} onClick={() => setOffset(offset + 50)}>
            Older
          </Button>
        </div>
      )}
    </>
  );
}
