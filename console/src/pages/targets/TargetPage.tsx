import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { EditAndDelete } from '../../ui/EditAndDelete';
import { SelectField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { HostKeyPanel } from './HostKeyPanel';
import { asOutcome, TestResult } from './TestResult';
import { fetchTarget, keys, type Target, type TestOutcome } from './queries';

function Details({ t }: { t: Target }) {
  const rows: [string, string][] = [
    ['Host', t.hostname],
    ['OS type', t.os_type.replace('_', ' ')],
    ['Pool', t.pool ?? 'default'],
    ['Enabled', (t.enabled ?? true) ? 'yes' : 'no'],
    ['Tags', (t.tags ?? []).join(', ') || '—'],
  ];
  if (t.ssh) rows.push(['SSH', `port ${t.ssh.port ?? 22}, policy ${t.ssh.host_key_policy ?? 'strict'}, credential ${t.ssh.credential_id}`]);
  if (t.winrm) rows.push(['WinRM', `${t.winrm.scheme ?? 'https'}${t.winrm.port ? ` port ${t.winrm.port}` : ''}, credential ${t.winrm.credential_id}`]);
  if (t.http) rows.push(['HTTP', `${t.http.base_url}${t.http.credential_id ? `, credential ${t.http.credential_id}` : ''}`]);
  if (t.metadata && Object.keys(t.metadata).length) rows.push(['Metadata', JSON.stringify(t.metadata)]);
  return (
    <dl className="facts">
      {rows.map(([k, v]) => (
        <div className="contents" key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
      <div className="contents">
        <dt>Changed</dt>
        <dd><Time at={t.updated_at} /></dd>
      </div>
    </dl>
  );
}

/** `/targets/:id`: settings, facts, connection test, host key; edit and delete for operators. */
export function TargetPage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const q = useQuery({ queryKey: keys.one(id), queryFn: () => fetchTarget(id) });
  useTitle(q.data?.name ?? 'Target');
  const [protocol, setProtocol] = useState<Schemas['ProbeProtocol'] | ''>('');
  const [confirm, setConfirm] = useState(false);
  const test = useMutation({
    mutationFn: () => api.post<TestOutcome>(`/api/v1/targets/${encodeURIComponent(id)}/test`, undefined, { query: { protocol: protocol || undefined } }),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.all }),
  });
  const del = useMutation({
    mutationFn: () => api.del(`/api/v1/targets/${encodeURIComponent(id)}`),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.all });
      void navigate('/targets');
    },
  });
  if (q.isPending) return <Loading what="the target" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const t = q.data;
  const last = test.data ?? asOutcome(t.last_test);
  return (
    <>
      <PageHeader
        title={t.name}
        subtitle={t.hostname}
        actions={
          can('operator') && (
            <EditAndDelete onDelete={() => setConfirm(true)} />
          )
        }
      />
      <div className="grid">
        <section className="card" aria-labelledby="t-details">
          <h2 id="t-details">Settings</h2>
          <Details t={t} />
        </section>
        <section className="card" aria-labelledby="t-test">
          <h2 id="t-test">Connection</h2>
          {can('operator') && (
            <div className="row">
              {t.ssh && t.winrm && (
                <SelectField
                  label="Protocol"
                  value={protocol}
                  onChange={(e) => setProtocol(e.target.value as Schemas['ProbeProtocol'] | '')}
                  options={[
                    { value: '', label: 'default' },
                    { value: 'ssh', label: 'SSH' },
                    { value: 'winrm', label: 'WinRM' },
                  ]}
                />
              )}
              <Button variant="primary" busy={test.isPending} onClick={() => test.mutate()}>
                {test.isPending ? 'Testing…' : 'Test connection'}
              </Button>
            </div>
          )}
          <ProblemAlert error={test.error} />
          <div aria-live="polite">
            {last ? <TestResult outcome={last} /> : <p className="muted">Never tested.</p>}
          </div>
        </section>
      </div>
      {t.ssh && <HostKeyPanel target={t} />}
      <ConfirmDialog
        open={confirm}
        title={`Delete ${t.name}?`}
        onClose={() => setConfirm(false)}
        onConfirm={() => del.mutate()}
        busy={del.isPending}
        error={del.error}
      >
        <p>It also leaves every group that lists it.</p>
      </ConfirmDialog>
    </>
  );
}
