import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { actionsColumn, DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { KINDS } from './channelForm';
import { channelPath, fetchChannels, keys, type Channel } from './queries';
import { RoomNav } from './RoomNav';
import { TestDialog } from './TestDialog';

/** Where a channel delivers, in words (never a secret). */
function whereTo(c: Channel): string {
  const s = c.settings;
  switch (s.kind) {
    case 'email':
      return `${s.host}:${s.port} (${s.tls}) → ${(s.default_to ?? []).join(', ') || 'no default recipients'}`;
    case 'slack':
      return s.mode === 'bot' ? `bot, default ${s.default_channel ?? 'none'}` : 'incoming webhook';
    case 'teams':
      return 'incoming webhook';
    default:
      return s.url;
  }
}

/** `/notifications/channels`: where notifications go; admins create, edit, test and delete. */
export function ChannelList() {
  useTitle('Channels');
  const { can } = useSession();
  const admin = can('admin');
  const qc = useQueryClient();
  const [testing, setTesting] = useState<Channel | null>(null);
  const [doomed, setDoomed] = useState<Channel | null>(null);
  const q = useQuery({ queryKey: keys.channels, queryFn: fetchChannels, enabled: can('operator') });
  const del = useMutation({
    mutationFn: (c: Channel) => api.del(channelPath(c.id)),
    onSuccess: async () => {
      setDoomed(null);
      await qc.invalidateQueries({ queryKey: keys.channels });
    },
  });
  if (!can('operator')) return <ProblemAlert error={new Error('Operators and admins see channels.')} title="Not allowed" />;
  return (
    <>
      <PageHeader title="Channels" subtitle="Email, Slack, Teams and webhooks. Secrets are write-only." actions={admin && <Link className="btn btn-primary" to="new">New channel</Link>} />
      <RoomNav />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="channels" />}
      {q.data && (
        <DataTable
          caption="Notification channels"
          rows={q.data}
          rowKey={(c) => c.id}
          empty="No channels yet."
          columns={[
            { key: 'name', header: 'Name', cell: (c) => (admin ? <Link to={`${c.id}/edit`}>{c.name}</Link> : c.name) },
            { key: 'kind', header: 'Kind', cell: (c) => KINDS.find((k) => k.value === c.kind)?.label ?? c.kind },
            { key: 'where', header: 'Delivers to', cell: (c) => <span className="small">{whereTo(c)}</span> },
            { key: 'secrets', header: 'Secrets set', cell: (c) => (c.secrets_set.length ? c.secrets_set.join(', ') : '—') },
            { key: 'state', header: 'State', cell: (c) => (c.enabled ? <span className="badge status-succeeded">enabled</span> : <span className="badge">disabled</span>) },
            ...(admin
              ? [
                  actionsColumn((c: Channel) => (
                    <div className="row">
                      <Button onClick={() => setTesting(c)} aria-label={`Test ${c.name}`}>
                        Test
                      </Button>
                      <Button variant="danger" onClick={() => setDoomed(c)} aria-label={`Delete ${c.name}`}>
                        Delete
                      </Button>
                    </div>
                  )),
                ]
              : []),
          ]}
        />
      )}
      {testing && <TestDialog channel={testing} onClose={() => setTesting(null)} />}
      <ConfirmDialog
        open={doomed !== null}
        title={`Delete ${doomed?.name ?? 'channel'}?`}
        onClose={() => setDoomed(null)}
        onConfirm={() => doomed && del.mutate(doomed)}
        busy={del.isPending}
        error={del.error}
      >
        <p>Its secrets go with it. A channel that rules still send through cannot be deleted.</p>
      </ConfirmDialog>
    </>
  );
}
