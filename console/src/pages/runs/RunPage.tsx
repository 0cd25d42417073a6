// /runs/:id: what the run is and was (header, chain of retries and causes),
// its timeline and steps, and its output as it streams. The stream drives
// the page; the run and its steps are read again (at most every 2 s) when
// it reports a step starting or ending.
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { between, dateTime, duration, shortId } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { sectionKey, type Section } from './lib/lines';
import { mergeSteps } from './lib/steps';
import { useRunStream } from './lib/stream';
import type { StepTiming } from './lib/timeline';
import { OutputView } from './OutputView';
import { CancelDialog, RerunDialog } from './RunActions';
import { Timeline } from './Timeline';
import { done, fetchRun, fetchSteps, keys, triggerOf, type RunView, type StepView } from './queries';

/** Least time between two reads of the run and its steps. */
const REFRESH_MS = 2000;

export function RunPage() {
  const { id = '' } = useParams();
  // A new run is a new page: its own stream and line store.
  return <RunPageOf key={id} id={id} />;
}

function RunLink({ id, children }: { id: string; children?: React.ReactNode }) {
  return (
    <Link to={`/runs/${id}`} className="mono">
      {children ?? shortId(id)}
    </Link>
  );
}

function Who({ run }: { run: RunView }) {
  const me = useSession().user;
  const t = triggerOf(run);
  const kind = t.kind.replace(/_/g, ' ');
  if (t.kind === 'schedule') return <>schedule <Link to={`/schedules/${t.actor}`} className="mono">{shortId(t.actor)}</Link></>;
  if (t.kind === 'integration') return <>integration {t.origin ?? t.actor}</>;
  if (t.cause_run_id) return <>{kind} of run <RunLink id={t.cause_run_id} /></>;
  const who = me && t.actor === me.id ? `you (${me.username})` : t.kind === 'api' ? `API token ${shortId(t.actor)}` : `user ${shortId(t.actor)}`;
  return <>{kind}, by {who}</>;
}

/** The runs this one is linked to: retries, re-runs, what caused it. */
function Chain({ run }: { run: RunView }) {
  const t = triggerOf(run);
  const items: { label: string; ids: string[] }[] = [];
  if (run.retry_root && run.retry_root !== run.id && run.retry_root !== run.retry_of) items.push({ label: 'First run of the retry chain', ids: [run.retry_root] });
  if (run.retry_of) items.push({ label: 'Retry of', ids: [run.retry_of] });
  if (run.retries && run.retries.length > 0) items.push({ label: 'Retried by', ids: run.retries });
  if (run.rerun_of) items.push({ label: 'Re-run of', ids: [run.rerun_of] });
  if (t.kind === 'dependency' && t.cause_run_id) items.push({ label: 'Triggered by (dependency)', ids: [t.cause_run_id] });
  if (items.length === 0) return null;
  return (
    <section className="card" aria-labelledby="run-chain">
      <h2 id="run-chain">Related runs</h2>
      <dl className="runs-dl">
        {items.map((i) => (
          <div key={i.label}>
            <dt>{i.label}</dt>
            <dd className="row">
              {i.ids.map((x) => (
                <RunLink key={x} id={x} />
              ))}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Parameters({ run }: { run: RunView }) {
  const p = Object.entries((run.parameters as Record<string, unknown> | null) ?? {});
  if (p.length === 0) return null;
  return (
    <details className="runs-params">
      <summary>Parameters ({p.length})</summary>
      <dl className="runs-dl">
        {p.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd className="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, [ticking]);
  return now;
}

function RunPageOf({ id }: { id: string }) {
  const { can } = useSession();
  const operator = can('operator');
  const qc = useQueryClient();
  const live = useRunStream(id);
  const run = useQuery({ queryKey: keys.one(id), queryFn: () => fetchRun(id) });
  const steps = useQuery({ queryKey: keys.steps(id), queryFn: () => fetchSteps(id) });
  const [picked, setPicked] = useState<string | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [rerunning, setRerunning] = useState(false);
  const output = useRef<HTMLDivElement>(null);
  const last = useRef(0);
  useTitle(run.data ? `Run ${shortId(id)} of ${run.data.job_name}` : 'Run');

  // A step started or ended: read the run and its steps again, throttled.
  useEffect(() => {
    if (live.stepVersion === 0) return;
    const wait = Math.max(0, last.current + REFRESH_MS - Date.now());
    const t = window.setTimeout(() => {
      last.current = Date.now();
      void qc.invalidateQueries({ queryKey: keys.one(id) });
      void qc.invalidateQueries({ queryKey: keys.steps(id) });
    }, wait);
    return () => window.clearTimeout(t);
  }, [live.stepVersion, id, qc]);
  // The end: once more a moment later, when the API has recorded it.
  useEffect(() => {
    if (live.state !== 'ended') return;
    const t = window.setTimeout(() => {
      void qc.invalidateQueries({ queryKey: keys.one(id) });
      void qc.invalidateQueries({ queryKey: keys.steps(id) });
    }, 1500);
    return () => window.clearTimeout(t);
  }, [live.state, id, qc]);

  const r = run.data;
  const status = r ? (done(r.status) ? r.status : (live.endStatus ?? r.status)) : null;
  const going = !!status && !done(status);
  const now = useNow(going);
  const targetIds: string[] = Array.isArray(r?.target_ids) ? (r.target_ids as string[]).slice(0, 100) : [];
  const targets = useQueries({
    queries: targetIds.map((t) => ({
      queryKey: ['targets', 'one', t],
      queryFn: () => api.get<Schemas['TargetView']>(`/api/v1/targets/${t}`),
      staleTime: 60_000,
      retry: false,
    })),
  });
  const names = new Map<string, string>();
  targetIds.forEach((t, i) => {
    const n = targets[i]?.data?.name;
    if (n) names.set(t, n);
  });
  const targetName = (t: string | null) => (t ? (names.get(t) ?? `target ${shortId(t)}`) : 'worker');
  const sectionName = (s: Section) => `${s.stepId} on ${targetName(s.targetId)}`;

  if (run.isPending) return <Loading what="the run" />;
  if (run.error || !r) return <ProblemAlert error={run.error} />;

  const merged: (StepView | StepTiming)[] = mergeSteps<StepView>(steps.data?.items, live.steps.list());
  const pick = (s: StepTiming) => {
    setPicked(sectionKey(s.step_id, s.target_id));
    output.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
  };
  const ms = r.duration_ms ?? (r.started_at || r.created_at ? between(r.created_at, going ? null : r.finished_at) : null);
  return (
    <div className="run-page">
      <PageHeader
        title={
          <>
            {r.job_name} <StatusBadge status={status} />
          </>
        }
        subtitle={
          <>
            Run <span className="mono">{shortId(r.id)}</span> of <Link to={`/jobs/${r.job_id}`}>{r.job_name}</Link>, version {r.job_version}
            {r.attempt > 1 ? `, attempt ${r.attempt}` : ''}
          </>
        }
        actions={
          operator && (
            <>
              {going && (
                <Button variant="danger" onClick={() => setCancelling(true)}>
                  Cancel
                </Button>
              )}
              {!going && (
                <Button variant="primary" onClick={() => setRerunning(true)}>
                  Re-run
                </Button>
              )}
            </>
          )
        }
      />
      <section className="card" aria-labelledby="run-summary">
        <h2 id="run-summary" className="sr-only">
          Summary
        </h2>
        <dl className="runs-dl runs-summary">
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge status={status} />
            </dd>
          </div>
          <div>
            <dt>Trigger</dt>
            <dd>
              <Who run={r} />
            </dd>
          </div>
          <div>
            <dt>Accepted</dt>
            <dd>
              <Time at={r.created_at} />
            </dd>
          </div>
          <div>
            <dt>Started</dt>
            <dd>
              <Time at={r.started_at} />
            </dd>
          </div>
          <div>
            <dt>Finished</dt>
            <dd>{r.finished_at ? <Time at={r.finished_at} /> : <span className="muted">{going ? 'still going' : '—'}</span>}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{duration(going ? between(r.created_at, new Date(now).toISOString()) : ms)}</dd>
          </div>
          {r.reason && (
            <div className="runs-reason">
              <dt>Why</dt>
              <dd>{r.reason}</dd>
            </div>
          )}
        </dl>
        <Parameters run={r} />
      </section>
      <Chain run={r} />
      <section className="card" aria-labelledby="run-timeline">
        <h2 id="run-timeline">Timeline</h2>
        <Timeline steps={merged} now={now} targetName={targetName} onPick={pick} picked={picked} />
      </section>
      <section className="card" aria-labelledby="run-steps">
        <h2 id="run-steps">Steps</h2>
        <ProblemAlert error={steps.error} />
        <DataTable
          caption="Steps, their exit codes and errors"
          rows={merged}
          rowKey={(s) => `${s.step_id}\u0000${s.target_id ?? ''}`}
          empty={going ? 'No step has started yet.' : 'No step ran.'}
          columns={[
            { key: 'step', header: 'Step', cell: (s) => <code>{s.step_id}</code> },
            { key: 'target', header: 'Target', cell: (s) => (s.target_id ? <Link to={`/targets/${s.target_id}`}>{targetName(s.target_id)}</Link> : 'worker') },
            { key: 'status', header: 'Status', cell: (s) => <StatusBadge status={s.status} /> },
            { key: 'attempt', header: 'Attempt', numeric: true, cell: (s) => s.attempt },
            { key: 'exit', header: 'Exit code', numeric: true, cell: (s) => (s.exit_code ?? '—') },
            { key: 'took', header: 'Duration', numeric: true, cell: (s) => duration(s.started_at ? between(s.started_at, s.finished_at ?? new Date(now).toISOString()) : null) },
            { key: 'error', header: 'Error', cell: (s) => (s.error ? <span className="runs-error">{s.error}</span> : <span className="muted">—</span>) },
            {
              key: 'out',
              header: 'Output',
              cell: (s) => (
                <Button variant="ghost" onClick={() => pick(s)} aria-label={`Show the output of ${s.step_id} on ${targetName(s.target_id ?? null)}`}>
                  Show
                </Button>
              ),
            },
          ]}
        />
        {steps.data?.items.some((s) => s.output_truncated) && <p className="muted small">Some output was cut at the size cap.</p>}
      </section>
      <div ref={output} className="runs-output-anchor">
        <ProblemAlert error={live.state === 'error' ? live.error : null} title="The live output could not be read" />
        <OutputView live={live} sectionKey={picked} onSection={setPicked} sectionName={sectionName} following={going} />
      </div>
      <p className="muted small">Accepted {dateTime(r.created_at)}.</p>
      {operator && <CancelDialog run={r} open={cancelling} onClose={() => setCancelling(false)} />}
      {operator && rerunning && <RerunDialog run={r} open onClose={() => setRerunning(false)} />}
    </div>
  );
}
