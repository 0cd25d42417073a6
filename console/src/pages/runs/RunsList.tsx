// /runs: every run, newest first, filtered through the URL and paged by the
// API; only the rows in view are in the DOM (100,000 runs scroll as fast as
// 10). The pages end at the moment the list was opened, so they do not
// shift while the user scrolls; newer runs are counted and shown on demand.
import { useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQueries, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useSession } from '../../auth/session';
import { duration, shortId } from '../../lib/format';
import { fromLocalInput, toLocalInput } from '../../lib/localInput';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { SelectField, TextField } from '../../ui/Field';
import { FilterActions } from '../../ui/FilterActions';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Empty, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { STATUSES, TRIGGERS, filtersOf, pagesFor, paramsOf, runsQuery, type RunFilters } from './lib/filters';
import { CancelDialog, RerunDialog } from './RunActions';
import { done, fetchJobOptions, fetchRuns, fetchTargetOptions, keys, triggerOf, type RunView } from './queries';

/** Rows per request. */
const PAGE = 100;
/** Row height in px (fixed: the virtualiser needs no measuring). */
const ROW = 44;

const label = (s: string) => s.replace(/_/g, ' ');

function Filters({ filters, onApply }: { filters: RunFilters; onApply: (f: RunFilters) => void }) {
  const [draft, setDraft] = useState<RunFilters>(filters);
  const jobs = useQuery({ queryKey: keys.jobs, queryFn: fetchJobOptions, staleTime: 60_000 });
  const targets = useQuery({ queryKey: keys.targets, queryFn: fetchTargetOptions, staleTime: 60_000 });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  const any = { value: '', label: 'Any' };
  return (
    <form className="card runs-filters" role="search" aria-label="Filter runs" onSubmit={submit}>
      <SelectField
        label="Job"
        value={draft.job ?? ''}
        onChange={(e) => setDraft({ ...draft, job: e.target.value || undefined })}
        options={[any, ...(jobs.data ?? []).map((j) => ({ value: j.id, label: j.name }))]}
      />
      <SelectField label="Status" value={draft.status ?? ''} onChange={(e) => setDraft({ ...draft, status: e.target.value || undefined })} options={[any, ...STATUSES.map((s) => ({ value: s, label: label(s) }))]} />
      <SelectField label="Trigger" value={draft.trigger ?? ''} onChange={(e) => setDraft({ ...draft, trigger: e.target.value || undefined })} options={[any, ...TRIGGERS.map((s) => ({ value: s, label: label(s) }))]} />
      <SelectField
        label="Target"
        value={draft.target ?? ''}
        onChange={(e) => setDraft({ ...draft, target: e.target.value || undefined })}
        options={[any, ...(targets.data ?? []).map((t) => ({ value: t.id, label: t.name }))]}
      />
      <TextField label="Accepted from" type="datetime-local" value={toLocalInput(draft.since)} onChange={(e) => setDraft({ ...draft, since: fromLocalInput(e.target.value) })} />
      <TextField label="Accepted before" type="datetime-local" value={toLocalInput(draft.until)} onChange={(e) => setDraft({ ...draft, until: fromLocalInput(e.target.value) })} />
      <FilterActions
        className="runs-filter-actions"
        onClear={() => {
          setDraft({});
          onApply({});
        }}
      />
      <ProblemAlert error={jobs.error ?? targets.error} title="Filter choices could not be loaded" />
    </form>
  );
}

function Row({ run, index, start, operator, onCancel, onRerun }: { run: RunView | undefined; index: number; start: number; operator: boolean; onCancel: (r: RunView) => void; onRerun: (r: RunView) => void }) {
  const style = { transform: `translateY(${start}px)`, height: ROW };
  if (!run) {
    return (
      <div role="row" aria-rowindex={index + 2} className="runs-row runs-row-loading" style={style}>
        <div role="cell" className="muted">
          Loading…
        </div>
      </div>
    );
  }
  const t = triggerOf(run);
  return (
    <div role="row" aria-rowindex={index + 2} className="runs-row" style={style}>
      <div role="cell">
        <Link to={run.id} className="mono" aria-label={`Run ${shortId(run.id)} of ${run.job_name}`}>
          {shortId(run.id)}
        </Link>
      </div>
      <div role="cell" className="runs-cell-job" title={run.job_name}>
        <Link to={`/jobs/${run.job_id}`}>{run.job_name}</Link> <span className="muted small">v{run.job_version}</span>
      </div>
      <div role="cell">
        <StatusBadge status={run.status} />
      </div>
      <div role="cell">{label(t.kind)}</div>
      <div role="cell">
        <Time at={run.created_at} />
      </div>
      <div role="cell" className="num">
        {duration(run.duration_ms ?? null)}
      </div>
      {operator && (
        <div role="cell" className="runs-row-actions">
          {done(run.status) ? (
            <Button variant="ghost" onClick={() => onRerun(run)} aria-label={`Re-run ${shortId(run.id)}`}>
              Re-run
            </Button>
          ) : (
            <Button variant="ghost" onClick={() => onCancel(run)} aria-label={`Cancel ${shortId(run.id)}`}>
              Cancel
            </Button>
          )}
        </div>
      )}
    </div>
  );
}

export function RunsList() {
  useTitle('Runs');
  const operator = useSession().can('operator');
  const [sp, setSp] = useSearchParams();
  const filters = useMemo(() => filtersOf(sp), [sp]);
  const filterKey = paramsOf(filters).toString();
  const [snapshot, setSnapshot] = useState(() => ({ at: new Date().toISOString(), filters: filterKey }));
  // New filters begin a new snapshot (done while rendering, not in an effect).
  if (snapshot.filters !== filterKey) setSnapshot({ at: new Date().toISOString(), filters: filterKey });
  const [cancelling, setCancelling] = useState<RunView | null>(null);
  const [rerunning, setRerunning] = useState<RunView | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const [total, setTotal] = useState<number | null>(null);

  const virtual = useVirtualizer({ count: total ?? 0, getScrollElement: () => scroller.current, estimateSize: () => ROW, overscan: 10 });
  const items = virtual.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  const pages = [...new Set([0, ...pagesFor(first, last, PAGE)])];
  const results = useQueries({
    queries: pages.map((p) => {
      const query = runsQuery(filters, snapshot.at, p * PAGE, PAGE);
      return {
        queryKey: keys.page(query),
        queryFn: ({ signal }: { signal: AbortSignal }) => fetchRuns(query, signal),
        // Pages with runs still going are read again to show their end.
        refetchInterval: (q: { state: { data?: { items: RunView[] } } }) => (q.state.data?.items.some((r) => !done(r.status)) ? 5000 : false),
      };
    }),
  });
  const byPage = new Map(pages.map((p, i) => [p, results[i]]));
  const head = byPage.get(0);
  const headTotal = head?.data?.total;
  if (headTotal !== undefined && headTotal !== total) setTotal(headTotal);
  const error = results.find((r) => r.error)?.error;

  const newerQuery = { ...runsQuery(filters, snapshot.at, 0, 1), since: filters.since && filters.since > snapshot.at ? filters.since : snapshot.at };
  delete (newerQuery as Record<string, unknown>).until;
  const newer = useQuery({
    queryKey: keys.newer(newerQuery),
    queryFn: () => fetchRuns(newerQuery),
    refetchInterval: 10_000,
    enabled: !filters.until || filters.until > snapshot.at,
  });
  const newCount = newer.data?.total ?? 0;

  const apply = (f: RunFilters) => setSp(paramsOf(f));
  const runAt = (i: number) => byPage.get(Math.floor(i / PAGE))?.data?.items[i % PAGE];
  const filtered = filterKey !== '';
  const height = Math.min(Math.max((total ?? 0) * ROW, ROW), 640);
  return (
    <>
      <PageHeader title="Runs" subtitle={total === null ? undefined : `${total.toLocaleString()} run${total === 1 ? '' : 's'}${filtered ? ' match' : ''}`} />
      <Filters key={filterKey} filters={filters} onApply={apply} />
      <ProblemAlert error={error} />
      {newCount > 0 && (
        <div className="alert alert-info row runs-newer" role="status">
          <span>
            {newCount} newer run{newCount === 1 ? '' : 's'} since the list was loaded.
          </span>
          <Button onClick={() => setSnapshot({ at: new Date().toISOString(), filters: filterKey })}>Show them</Button>
        </div>
      )}
      {total === 0 ? (
        <Empty>{filtered ? 'No run matches these filters.' : 'No runs yet. Start one from a job’s page.'}</Empty>
      ) : (
        <div className="runs-table-wrap">
          <div role="table" aria-label="Runs" aria-rowcount={(total ?? 0) + 1} className={operator ? 'runs-table runs-table-ops' : 'runs-table'}>
            <div role="rowgroup">
              <div role="row" aria-rowindex={1} className="runs-row runs-head">
                <div role="columnheader">Run</div>
                <div role="columnheader">Job</div>
                <div role="columnheader">Status</div>
                <div role="columnheader">Trigger</div>
                <div role="columnheader">Accepted</div>
                <div role="columnheader" className="num">
                  Duration
                </div>
                {operator && <div role="columnheader">Actions</div>}
              </div>
            </div>
            <div role="rowgroup" ref={scroller} className="runs-body" style={{ height }}>
              <div role="presentation" className="runs-spacer" style={{ height: virtual.getTotalSize() }}>
                {items.map((v) => (
                  <Row key={v.key} run={runAt(v.index)} index={v.index} start={v.start} operator={operator} onCancel={setCancelling} onRerun={setRerunning} />
                ))}
              </div>
            </div>
          </div>
        </div>
      )}
      {cancelling && <CancelDialog run={cancelling} open onClose={() => setCancelling(null)} />}
      {rerunning && <RerunDialog run={rerunning} open onClose={() => setRerunning(null)} />}
    </>
  );
}
