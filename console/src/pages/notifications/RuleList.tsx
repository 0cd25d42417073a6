import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { fetchChannels, fetchRules, keys, words } from './queries';
import { RoomNav } from './RoomNav';
import { shortId } from '../../lib/format';

/** `/notifications/rules`: who hears what; admins write rules. */
export function RuleList() {
  useTitle('Rules');
  const { can } = useSession();
  const q = useQuery({ queryKey: keys.rules, queryFn: fetchRules, enabled: can('operator') });
  const channels = useQuery({ queryKey: keys.channels, queryFn: fetchChannels, enabled: can('operator') });
  const names = new Map((channels.data ?? []).map((c) => [c.id, c.name]));
  if (!can('operator')) return <ProblemAlert error={new Error('Operators and admins see rules.')} title="Not allowed" />;
  return (
    <>
      <PageHeader title="Rules" subtitle="Which facts notify whom, through which channel." actions={can('admin') && <Link className="btn btn-primary" to="new">New rule</Link>} />
      <RoomNav />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="rules" />}
      {q.data && (
        <DataTable
          caption="Notification rules"
          rows={q.data}
          rowKey={(r) => r.id}
          empty="No rules yet."
          columns={[
            { key: 'name', header: 'Name', cell: (r) => <Link to={r.id}>{r.name}</Link> },
            { key: 'triggers', header: 'Triggers', cell: (r) => r.triggers.map(words).join(', ') },
            { key: 'to', header: 'Sends to', cell: (r) => r.send_to.map((t) => names.get(t.channel_id) ?? shortId(t.channel_id)).join(', ') },
            { key: 'state', header: 'State', cell: (r) => (r.enabled ? <span className="badge status-succeeded">enabled</span> : <span className="badge">disabled</span>) },
          ]}
        />
      )}
    </>
  );
}
