// /admin/audit: the audit trail, filtered through the URL and paged by the
// API; a record's detail; an export of everything the filters match.
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { saveResponse } from '../../lib/download';
import { fromLocalInput, toLocalInput } from '../../lib/localInput';
import { useTitle } from '../../lib/title';
import { dateTime } from '../../lib/format';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { Dialog } from '../../ui/Dialog';
import { SelectField, TextField } from '../../ui/Field';
import { FilterActions } from '../../ui/FilterActions';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { OUTCOMES, exportQuery, filtersOf, pageOf, searchOf, summaryText, type AuditFilters } from './audit';
import { Pager } from './Pager';
import { AUDIT_PAGE, fetchAudit, keys, type AuditEntry } from './queries';

const outcomeClass: Record<string, string> = { success: 'status-succeeded', failure: 'status-failed', denied: 'status-cancelled' };

function Outcome({ value }: { value: string }) {
  return <span className={`badge ${outcomeClass[value] ?? ''}`}>{value}</span>;
}

function Detail({ entry, onClose }: { entry: AuditEntry | null; onClose: () => void }) {
  return (
    <Dialog
      open={entry !== null}
      title={entry ? `${entry.action} by ${entry.actor_name ?? entry.actor_kind}` : 'Audit record'}
      onClose={onClose}
      footer={<Button onClick={onClose}>Close</Button>}
    >
      {entry && (
        <>
          <dl className="facts">
            <dt>When</dt>
            <dd>{dateTime(entry.at)}</dd>
            <dt>Actor</dt>
            <dd>
              {entry.actor_name ?? '—'} ({entry.actor_kind}){entry.actor_id && <code className="small"> {entry.actor_id}</code>}
            </dd>
            <dt>Action</dt>
            <dd>
              <code>{entry.action}</code>
            </dd>
            <dt>Entity</dt>
            <dd>
              {entry.entity_type ?? '—'} {entry.entity_id && <code>{entry.entity_id}</code>}
            </dd>
            <dt>Outcome</dt>
            <dd>
              <Outcome value={entry.outcome} />
            </dd>
            <dt>Client</dt>
            <dd>{entry.client_addr ?? '—'}</dd>
            <dt>Request</dt>
            <dd>{entry.request_id ? <code>{entry.request_id}</code> : '—'}</dd>
            <dt>Record</dt>
            <dd>
              <code>{entry.id}</code>
            </dd>
          </dl>
          <h3>Summary (secrets redacted)</h3>
          <pre className="audit-summary" tabIndex={0} role="region" aria-label="Summary of the change">
            {summaryText(entry.summary)}
          </pre>
        </>
      )}
    </Dialog>
  );
}

type Draft = Record<'actor' | 'action' | 'entity_type' | 'entity_id' | 'outcome' | 'since' | 'until', string>;

const draftOf = (f: AuditFilters): Draft => ({
  actor: f.actor ?? '',
  action: f.action ?? '',
  entity_type: f.entity_type ?? '',
  entity_id: f.entity_id ?? '',
  outcome: f.outcome ?? '',
  since: toLocalInput(f.since),
  until: toLocalInput(f.until),
});

function Filters({ filters, onApply }: { filters: AuditFilters; onApply: (f: AuditFilters) => void }) {
  const [draft, setDraft] = useState(() => draftOf(filters));
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply({
      actor: draft.actor,
      action: draft.action,
      entity_type: draft.entity_type,
      entity_id: draft.entity_id,
      outcome: draft.outcome,
      since: fromLocalInput(draft.since),
      until: fromLocalInput(draft.until),
    });
  };
  return (
    <form className="card audit-filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
      <TextField label="Actor" hint="User name, exactly." value={draft.actor} onChange={(e) => set({ actor: e.target.value })} />
      <TextField label="Action" hint="Exactly, e.g. user.create." value={draft.action} onChange={(e) => set({ action: e.target.value })} />
      <TextField label="Entity type" hint="e.g. user, job, api_token." value={draft.entity_type} onChange={(e) => set({ entity_type: e.target.value })} />
      <TextField label="Entity id" value={draft.entity_id} onChange={(e) => set({ entity_id: e.target.value })} />
      <SelectField
        label="Outcome"
        value={draft.outcome}
        onChange={(e) => set({ outcome: e.target.value })}
        options={[{ value: '', label: 'Any' }, ...OUTCOMES.map((o) => ({ value: o, label: o }))]}
      />
      <TextField label="From" type="datetime-local" hint="Your local time, inclusive." value={draft.since} onChange={(e) => set({ since: e.target.value })} />
      <TextField label="Until" type="datetime-local" hint="Your local time, exclusive." value={draft.until} onChange={(e) => set({ until: e.target.value })} />
      <FilterActions
        className="form-actions"
        clearLabel="Clear filters"
        onClear={() => {
          setDraft(draftOf({}));
          onApply({});
        }}
      />
    </form>
  );
}

function Export({ filters }: { filters: AuditFilters }) {
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const run = useMutation({
    mutationFn: async () => {
      const res = await api.raw('GET', '/api/v1/audit/export', undefined, { query: exportQuery(filters, format), headers: { Accept: '*/*' } });
      return saveResponse(res, `audit.${format}`);
    },
  });
  return (
    <div className="audit-export">
      <SelectField
        label="Export format"
        value={format}
        onChange={(e) => setFormat(e.target.value as 'csv' | 'json')}
        options={[
          { value: 'csv', label: 'CSV (spreadsheet-safe)' },
          { value: 'json', label: 'JSON' },
        ]}
      />
      <Button busy={run.isPending} onClick={() => run.mutate()}>
        Export matching records
      </Button>
      {run.isSuccess && <span role="status">Downloaded {run.data}.</span>}
      <ProblemAlert error={run.error} title="The export failed" />
    </div>
  );
}

export function AuditPage() {
  useTitle('Audit log');
  const [sp, setSp] = useSearchParams();
  const filters = filtersOf(sp);
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const q = useQuery({ queryKey: keys.audit(filters), queryFn: () => fetchAudit(filters), placeholderData: keepPreviousData });
  const offset = filters.offset ?? 0;
  const p = q.data ? pageOf(offset, AUDIT_PAGE, q.data.items.length, q.data.total) : null;
  const go = (o: number | null) => {
    if (o !== null) setSp(searchOf({ ...filters, offset: o }));
  };
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change and every refused attempt, newest first. Up to 100,000 records per export." />
      <Filters key={searchOf({ ...filters, offset: undefined }).toString()} filters={filters} onApply={(f) => setSp(searchOf(f))} />
      <Export filters={filters} />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="the audit log" />}
      {q.data && p && (
        <section aria-labelledby="audit-results">
          <h2 id="audit-results">
            {p.total === 0 ? 'No matching records' : `Records ${p.from}–${p.to} of ${p.total}`}
            {q.isFetching && <span className="muted small"> (updating…)</span>}
          </h2>
          <DataTable
            caption="Audit records"
            rows={q.data.items}
            rowKey={(r) => r.id}
            empty="No record matches these filters."
            columns={[
              { key: 'at', header: 'When', cell: (r) => <Time at={r.at} /> },
              {
                key: 'actor',
                header: 'Actor',
                cell: (r) => (
                  <>
                    {r.actor_name ?? <span className="muted">—</span>} <span className="muted small">{r.actor_kind.replace('_', ' ')}</span>
                  </>
                ),
              },
              { key: 'action', header: 'Action', cell: (r) => <code>{r.action}</code> },
              {
                key: 'entity',
                header: 'Entity',
                cell: (r) =>
                  r.entity_type ? (
                    <>
                      {r.entity_type} {r.entity_id && <code className="small audit-entity">{r.entity_id}</code>}
                    </>
                  ) : (
                    <span className="muted">—</span>
                  ),
              },
              { key: 'outcome', header: 'Outcome', cell: (r) => <Outcome value={r.outcome} /> },
              {
                key: 'detail',
                header: <span className="sr-only">Detail</span>,
                cell: (r) => (
                  <Button aria-label={`Details of ${r.action} at ${dateTime(r.at)}`} onClick={() => setOpen(r)}>
                    Details
                  </Button>
                ),
              },
            ]}
          />
          {p.total > AUDIT_PAGE && (
            <Pager label="Pages of audit records" page={p} onGo={go} />
          )}
        </section>
      )}
      <Detail entry={open} onClose={() => setOpen(null)} />
    </>
  );
}
