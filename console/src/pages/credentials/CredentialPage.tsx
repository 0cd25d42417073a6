import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { EditAndDelete } from '../../ui/EditAndDelete';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { scopeText, typeLabel } from './CredentialList';
import { fetchOne, fetchUsage, keys } from './queries';

function show(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '—';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** `/credentials/:id`: metadata, scope, where it is used; edit and delete for admins. */
export function CredentialPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const q = useQuery({ queryKey: keys.one(id), queryFn: () => fetchOne(id) });
  const usage = useQuery({ queryKey: keys.usage(id), queryFn: () => fetchUsage(id) });
  useTitle(q.data?.name ?? 'Credential');
  const del = useMutation({
    mutationFn: () => api.del(`/api/v1/credentials/${encodeURIComponent(id)}`),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.all });
      void navigate('/credentials');
    },
  });
  if (q.isPending) return <Loading what="the credential" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const c = q.data;
  const pub = (c.public ?? {}) as Record<string, unknown>;
  return (
    <>
      <PageHeader
        title={c.name}
        subtitle={`${typeLabel(c.type)}${c.description ? ` — ${c.description}` : ''}`}
        actions={
          can('admin') && (
            <EditAndDelete onDelete={() => setConfirm(true)} />
          )
        }
      />
      <div className="grid">
        <section className="card" aria-labelledby="cred-about">
          <h2 id="cred-about">Details</h2>
          <dl className="cred-facts">
            {[
              ...Object.entries(pub).map(([k, v]) => [k.replace(/_/g, ' '), show(v)] as const),
              ['Scope', scopeText(c)] as const,
              ['Key', c.key_id] as const,
            ].map(([k, v]) => (
              <div key={k} className="contents">
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
            {(
              [
                ['Created', c.created_at],
                ['Changed', c.updated_at],
                ['Last used', c.last_used_at],
              ] as const
            ).map(([k, at]) => (
              <div key={k} className="contents">
                <dt>{k}</dt>
                <dd>
                  <Time at={at} />
                </dd>
              </div>
            ))}
          </dl>
        </section>
        <section className="card" aria-labelledby="cred-usage">
          <h2 id="cred-usage">Where it is used</h2>
          <ProblemAlert error={usage.error} />
          {usage.isPending && <Loading what="usage" />}
          {usage.data && (
            <>
              <h3>Targets</h3>
              {usage.data.targets.length === 0 ? (
                <p className="muted">No target names it.</p>
              ) : (
                <ul>
                  {usage.data.targets.map((t) => (
                    <li key={t.id}><Link to={`/targets/${t.id}`}>{t.name}</Link></li>
                  ))}
                </ul>
              )}
              <h3>Jobs</h3>
              {usage.data.jobs.length === 0 ? (
                <p className="muted">No job addresses those targets.</p>
              ) : (
                <ul>
                  {usage.data.jobs.map((j) => (
                    <li key={j.id}><Link to={`/jobs/${j.id}`}>{j.name}</Link></li>
                  ))}
                </ul>
              )}
            </>
          )}
        </section>
      </div>
      <ConfirmDialog
        open={confirm}
        title={`Delete ${c.name}?`}
        onClose={() => setConfirm(false)}
        onConfirm={() => del.mutate()}
        busy={del.isPending}
        error={del.error}
      >
        <p>Its sealed secrets are destroyed. Targets still naming it are refused.</p>
      </ConfirmDialog>
    </>
  );
}
