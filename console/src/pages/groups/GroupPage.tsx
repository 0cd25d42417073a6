import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { EditAndDelete } from '../../ui/EditAndDelete';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { fetchGroup, fetchMembers, groupPath, keys, selectorText } from './queries';

function MemberResult({ r }: { r: Schemas['MemberOutcome'] }) {
  if (!r.outcome) return <span className="badge status-failed">not run</span>;
  const o = r.outcome;
  return (
    <span className={`badge ${o.ok ? 'status-succeeded' : 'status-failed'}`}>
      {o.ok ? 'ok' : `failed${o.stage ? ` (${o.stage.replace(/_/g, ' ')})` : ''}`}
    </span>
  );
}

/** `/groups/:id`: definition, resolved members, "Test all"; edit and delete for operators. */
export function GroupPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const q = useQuery({ queryKey: keys.one(id), queryFn: () => fetchGroup(id) });
  const members = useQuery({ queryKey: keys.members(id), queryFn: () => fetchMembers(id) });
  useTitle(q.data?.name ?? 'Group');
  const test = useMutation({
    mutationFn: () => api.post<Schemas['GroupOutcome']>(`${groupPath(id)}/test`),
    onSettled: () => qc.invalidateQueries({ queryKey: ['targets'] }),
  });
  const del = useMutation({
    mutationFn: () => api.del(groupPath(id)),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.all });
      void navigate('/groups');
    },
  });
  if (q.isPending) return <Loading what="the group" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const g = q.data;
  const results = new Map((test.data?.results ?? []).map((r) => [r.target_id, r]));
  return (
    <>
      <PageHeader
        title={g.name}
        subtitle={g.description || undefined}
        actions={
          can('operator') && (
            <EditAndDelete onDelete={() => setConfirm(true)}>
              <Button variant="primary" busy={test.isPending} onClick={() => test.mutate()}>
                {test.isPending ? 'Testing…' : 'Test all'}
              </Button>
            </EditAndDelete>
          )
        }
      />
      <section className="card" aria-labelledby="g-def">
        <h2 id="g-def">Definition</h2>
        <p>
          {(g.members ?? []).length} static member(s); selector: {selectorText(g.selector)}.
        </p>
      </section>
      <ProblemAlert error={test.error} />
      {test.data && (
        <div className={`alert ${test.data.failed ? 'alert-error' : 'alert-info'}`} role="status">
          Tested {test.data.total}: {test.data.succeeded} succeeded, {test.data.failed} failed.
        </div>
      )}
      <section aria-labelledby="g-members">
        <h2 id="g-members">Members now</h2>
        <ProblemAlert error={members.error} />
        {members.isPending && <Loading what="members" />}
        {members.data && (
          <DataTable
            caption="Current members"
            rows={members.data.items}
            rowKey={(t) => t.id}
            empty="No target is a member."
            columns={[
              { key: 'name', header: 'Name', cell: (t) => <Link to={`/targets/${t.id}`}>{t.name}</Link> },
              { key: 'host', header: 'Host', cell: (t) => t.hostname },
              { key: 'os', header: 'OS', cell: (t) => t.os_type.replace('_', ' ') },
              { key: 'tags', header: 'Tags', cell: (t) => (t.tags ?? []).join(', ') || '—' },
              { key: 'how', header: 'Member by', cell: (t) => ((g.members ?? []).includes(t.id) ? 'static' : 'selector') },
              ...(test.data
                ? [
                    {
                      key: 'result',
                      header: 'Test',
                      cell: (t: Schemas['TargetView']) => {
                        const r = results.get(t.id);
                        if (!r) return <span className="muted">—</span>;
                        return (
                          <>
                            <MemberResult r={r} /> {r.problem ?? r.outcome?.error ?? ''}
                          </>
                        );
                      },
                    },
                  ]
                : []),
            ]}
          />
        )}
      </section>
      <ConfirmDialog
        open={confirm}
        title={`Delete ${g.name}?`}
        onClose={() => setConfirm(false)}
        onConfirm={() => del.mutate()}
        busy={del.isPending}
        error={del.error}
      >
        <p>The targets stay; only the group goes.</p>
      </ConfirmDialog>
    </>
  );
}
