import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { saveFile } from '../../lib/download';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { SelectField, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { asOutcome } from './TestResult';
import { fetchGroups, fetchTargets, FILTERS, keys, type Filters } from './queries';
import { OS_TYPES } from './targetForm';

function filtersOf(params: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** `/targets`: the inventory, filtered by name, tag, OS, group and pool (kept in the URL). */
export function TargetList() {
  useTitle('Targets');
  const { can } = useSession();
  const [params, setParams] = useSearchParams();
  const filters = filtersOf(params);
  const [draft, setDraft] = useState<Filters>(filters);
  const q = useQuery({ queryKey: keys.list(filters), queryFn: () => fetchTargets(filters) });
  const groups = useQuery({ queryKey: ['groups', 'list'], queryFn: fetchGroups });
  const exporter = useMutation({
    mutationFn: async (format: 'json' | 'csv') => {
      const res = await api.raw('GET', '/api/v1/targets/export', undefined, { query: { ...filters, format } });
      saveFile(await res.blob(), `targets.${format}`);
    },
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const k of FILTERS) if (draft[k]?.trim()) next.set(k, draft[k].trim());
    setParams(next);
  };
  const setDraftKey = (k: keyof Filters, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  return (
    <>
      <PageHeader
        title="Targets"
        subtitle={q.data ? `${q.data.total} target(s)` : undefined}
        actions={
          <>
            <Button onClick={() => exporter.mutate('json')} busy={exporter.isPending}>Export JSON</Button>
            <Button onClick={() => exporter.mutate('csv')} busy={exporter.isPending}>Export CSV</Button>
            {can('operator') && (
              <>
                <Link className="btn btn-secondary" to="import">Import</Link>
                <Link className="btn btn-primary" to="new">New target</Link>
              </>
            )}
          </>
        }
      />
      <form className="filters card" role="search" aria-label="Filter targets" onSubmit={apply}>
        <TextField label="Name contains" value={draft.name ?? ''} onChange={(e) => setDraftKey('name', e.target.value)} />
        <TextField label="Tag" value={draft.tag ?? ''} onChange={(e) => setDraftKey('tag', e.target.value)} />
        <SelectField
          label="OS type"
          value={draft.os_type ?? ''}
          onChange={(e) => setDraftKey('os_type', e.target.value)}
          options={[{ value: '', label: 'Any' }, ...OS_TYPES.map((o) => ({ value: o, label: o.replace('_', ' ') }))]}
        />
        <SelectField
          label="Group"
          value={draft.group ?? ''}
          onChange={(e) => setDraftKey('group', e.target.value)}
          options={[{ value: '', label: 'Any' }, ...(groups.data?.items ?? []).map((g) => ({ value: g.id, label: g.name }))]}
        />
        <TextField label="Pool" value={draft.pool ?? ''} onChange={(e) => setDraftKey('pool', e.target.value)} />
        <div className="row">
          <Button type="submit" variant="primary">Filter</Button>
          <Button
            onClick={() => {
              setDraft({});
              setParams(new URLSearchParams());
            }}
          >
            Clear
          </Button>
        </div>
      </form>
      <ProblemAlert error={exporter.error} />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="targets" />}
      {q.data && (
        <DataTable
          caption="Targets"
          rows={q.data.items}
          rowKey={(t) => t.id}
          empty="No target matches."
          columns={[
            { key: 'name', header: 'Name', cell: (t) => <Link to={t.id}>{t.name}</Link> },
            { key: 'host', header: 'Host', cell: (t) => t.hostname },
            { key: 'os', header: 'OS', cell: (t) => t.os_type.replace('_', ' ') },
            { key: 'pool', header: 'Pool', cell: (t) => t.pool },
            { key: 'tags', header: 'Tags', cell: (t) => (t.tags ?? []).join(', ') || '—' },
            {
              key: 'test',
              header: 'Last test',
              cell: (t) => {
                const o = asOutcome(t.last_test);
                const pending = t.host_key?.pending;
                if (pending) return <span className="badge status-pending">host key pending</span>;
                if (!o) return <span className="muted">never</span>;
                return <span className={`badge ${o.ok ? 'status-succeeded' : 'status-failed'}`}>{o.ok ? 'ok' : `failed (${o.stage ?? 'error'})`}</span>;
              },
            },
            { key: 'enabled', header: 'Enabled', cell: (t) => ((t.enabled ?? true) ? 'yes' : 'no') },
          ]}
        />
      )}
    </>
  );
}
