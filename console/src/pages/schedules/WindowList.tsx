import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { dateTime } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { actionsColumn, DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { fetchGroups, fetchJobs, fetchTargets, fetchWindows, keys, windowPath, type Window } from './queries';
import { RoomNav } from './RoomNav';
import { scopeText, timingText } from './windowForm';

/** `/schedules/windows`: maintenance windows, open now or next; admins create, edit and delete. */
export function WindowList() {
  useTitle('Maintenance windows');
  const { can } = useSession();
  const admin = can('admin');
  const qc = useQueryClient();
  const [doomed, setDoomed] = useState<Window | null>(null);
  const q = useQuery({ queryKey: keys.windowList(), queryFn: fetchWindows, refetchInterval: 60_000 });
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs });
  const groups = useQuery({ queryKey: ['groups', 'list'], queryFn: fetchGroups });
  const targets = useQuery({ queryKey: ['targets', 'list', { all: true }], queryFn: fetchTargets });
  const names = new Map<string, string>([
    ...(jobs.data?.items ?? []).map((j): [string, string] => [j.id, j.name]),
    ...(groups.data?.items ?? []).map((g): [string, string] => [g.id, g.name]),
    ...(targets.data?.items ?? []).map((t): [string, string] => [t.id, t.name]),
  ]);
  const del = useMutation({
    mutationFn: (w: Window) => api.del(windowPath(w.id)),
    onSuccess: async () => {
      setDoomed(null);
      await qc.invalidateQueries({ queryKey: keys.windows });
    },
  });
  return (
    <>
      <PageHeader
        title="Maintenance windows"
        subtitle="Times when runs keep off jobs or targets: fires inside are skipped or deferred to the window's end."
        actions={admin && <Link className="btn btn-primary" to="new">New window</Link>}
      />
      <RoomNav />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="windows" />}
      {q.data && (
        <DataTable
          caption="Maintenance windows"
          rows={q.data.items}
          rowKey={(w) => w.id}
          empty="No maintenance windows."
          columns={[
            { key: 'name', header: 'Name', cell: (w) => (admin ? <Link to={`${w.id}/edit`}>{w.name}</Link> : w.name) },
            { key: 'when', header: 'When', cell: (w) => timingText(w.timing, dateTime) },
            { key: 'scope', header: 'Covers', cell: (w) => scopeText(w.scope, names) },
            { key: 'policy', header: 'Fires inside', cell: (w) => (w.fire_policy === 'defer' ? 'deferred to its end' : 'skipped') },
            {
              key: 'now',
              header: 'Now',
              cell: (w) =>
                !w.enabled ? (
                  <span className="badge">disabled</span>
                ) : w.open_now ? (
                  <span className="badge status-running">open until {dateTime(w.closes_at)}</span>
                ) : w.next_openings[0] ? (
                  <span className="muted">opens {dateTime(w.next_openings[0].opens_at)}</span>
                ) : (
                  <span className="muted">no further opening</span>
                ),
            },
            ...(admin
              ? [
                  actionsColumn((w: Window) => (
                    <Button variant="danger" onClick={() => setDoomed(w)} aria-label={`Delete ${w.name}`}>
                      Delete
                    </Button>
                  )),
                ]
              : []),
          ]}
        />
      )}
      <ConfirmDialog
        open={doomed !== null}
        title={`Delete ${doomed?.name ?? 'window'}?`}
        onClose={() => setDoomed(null)}
        onConfirm={() => doomed && del.mutate(doomed)}
        busy={del.isPending}
        error={del.error}
      >
        <p>Fires inside it will run again as scheduled.</p>
      </ConfirmDialog>
    </>
  );
}
