// /jobs: every job with its tags, owner and last run; filters kept in the
// URL and applied by the API; bulk enable/disable for operators.
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable, type Column } from '../../ui/DataTable';
import { SelectField, TextField } from '../../ui/Field';
import { FilterActions } from '../../ui/FilterActions';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { PAGE, bulkActive, fetchList, keys, type JobFilters, type JobListItem } from './api';
import { ImportDialog } from './ImportDialog';

const FIELDS = ['name', 'tag', 'owner', 'last_status', 'active'] as const;
const STATUSES = ['succeeded', 'failed', 'running', 'queued', 'waiting', 'cancelled', 'timed_out', 'worker_lost', 'skipped'];

function filtersOf(sp: URLSearchParams): JobFilters {
  const f: JobFilters = {};
  for (const k of FIELDS) {
    const v = sp.get(k);
    if (v) f[k] = v;
  }
  const off = Number(sp.get('offset'));
  if (Number.isInteger(off) && off > 0) f.offset = off;
  return f;
}

export function JobsList() {
  useTitle('Jobs');
  const { can } = useSession();
  const operator = can('operator');
  const [sp, setSp] = useSearchParams();
  const filters = filtersOf(sp);
  const [draft, setDraft] = useState<JobFilters>(filters);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [importing, setImporting] = useState(false);
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.list(filters), queryFn: () => fetchList(filters) });
  const bulk = useMutation({
    mutationFn: (active: boolean) => bulkActive([...selected], active),
    onSuccess: async () => {
      setSelected(new Set());
      await qc.invalidateQueries({ queryKey: keys.all });
    },
  });

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const next = new URLSearchParams();
    for (const k of FIELDS) {
      const v = draft[k]?.trim();
      if (v) next.set(k, v);
    }
    setSelected(new Set());
    setSp(next);
  };
  const page = (offset: number) => {
    const next = new URLSearchParams(sp);
    if (offset > 0) next.set('offset', String(offset));
    else next.delete('offset');
    setSp(next);
  };

  const rows = q.data?.items ?? [];
  const allChecked = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  const columns: Column<JobListItem>[] = [
    ...(operator
      ? [
          {
            key: 'pick',
            header: (
              <input
                type="checkbox"
                aria-label="Select all jobs on this page"
                checked={allChecked}
                onChange={() => setSelected(allChecked ? new Set() : new Set(rows.map((r) => r.id)))}
              />
            ),
            cell: (r: JobListItem) => (
              <input type="checkbox" aria-label={`Select ${r.name}`} checked={selected.has(r.id)} onChange={() => toggle(r.id)} />
            ),
          },
        ]
      : []),
    { key: 'name', header: 'Name', cell: (r) => <Link to={r.id}>{r.name}</Link> },
    {
      key: 'tags',
      header: 'Tags',
      cell: (r) =>
        (r.tags ?? []).length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <span className="jobs-tags">
            {(r.tags ?? []).map((t) => (
              <span className="badge" key={t}>
                {t}
              </span>
            ))}
          </span>
        ),
    },
    { key: 'owner', header: 'Owner', cell: (r) => r.owner?.username ?? <span className="muted">none</span> },
    { key: 'active', header: 'Active', cell: (r) => (r.active ? 'Active' : 'Inactive') },
    {
      key: 'last',
      header: 'Last run',
      cell: (r) =>
        r.last_run ? (
          <span className="row">
            <Link to={`/runs/${r.last_run.id}`} aria-label={`Last run of ${r.name}: ${r.last_run.status}`}>
              <StatusBadge status={r.last_run.status} />
            </Link>
            <Time at={r.last_run.finished_at ?? r.last_run.accepted_at} />
          </span>
        ) : (
          <span className="muted">never</span>
        ),
    },
  ];

  const total = q.data?.total ?? 0;
  const offset = filters.offset ?? 0;
  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle={q.data ? `${total} job${total === 1 ? '' : 's'}` : undefined}
        actions={
          operator && (
            <>
              <Button onClick={() => setImporting(true)}>Import</Button>
              <Link className="btn btn-primary" to="new">
                New job
              </Link>
            </>
          )
        }
      />
      <form className="card jobs-filters" onSubmit={apply} role="search" aria-label="Filter jobs">
        <TextField label="Name contains" value={draft.name ?? ''} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
        <TextField label="Tags" hint="Comma-separated; all must match." value={draft.tag ?? ''} onChange={(e) => setDraft({ ...draft, tag: e.target.value })} />
        <TextField label="Owner" hint="Login name or id." value={draft.owner ?? ''} onChange={(e) => setDraft({ ...draft, owner: e.target.value })} />
        <SelectField
          label="Last run status"
          value={draft.last_status ?? ''}
          onChange={(e) => setDraft({ ...draft, last_status: e.target.value })}
          options={[{ value: '', label: 'Any' }, ...STATUSES.map((s) => ({ value: s, label: s.replace(/_/g, ' ') }))]}
        />
        <SelectField
          label="Active"
          value={draft.active ?? ''}
          onChange={(e) => setDraft({ ...draft, active: e.target.value })}
          options={[
            { value: '', label: 'Any' },
            { value: 'true', label: 'Active' },
            { value: 'false', label: 'Inactive' },
          ]}
        />
        <FilterActions
          className="jobs-filter-actions"
          onClear={() => {
            setDraft({});
            setSp(new URLSearchParams());
          }}
        />
      </form>
      {operator && selected.size > 0 && (
        <div className="row jobs-bulk" role="group" aria-label="Selected jobs">
          <span>{selected.size} selected</span>
          <Button busy={bulk.isPending} onClick={() => bulk.mutate(true)}>
            Enable
          </Button>
          <Button busy={bulk.isPending} onClick={() => bulk.mutate(false)}>
            Disable
          </Button>
        </div>
      )}
      <ProblemAlert error={bulk.error} title="The jobs were not changed" />
      <ProblemAlert error={q.error} />
      {q.isPending ? (
        <Loading what="jobs" />
      ) : (
        <DataTable rows={rows} columns={columns} caption="Jobs" rowKey={(r) => r.id} empty="No job matches these filters." />
      )}
      {total > PAGE && (
        <nav className="row jobs-pager" aria-label="Pages of jobs">
          <Button disabled={offset === 0} onClick={() => page(Math.max(0, offset - PAGE))}>
            Previous
          </Button>
          <span>
            {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
          </span>
          <Button disabled={offset + PAGE >= total} onClick={() => page(offset + PAGE)}>
            Next
          </Button>
        </nav>
      )}
      {operator && <ImportDialog open={importing} onClose={() => setImporting(false)} />}
    </>
  );
}
