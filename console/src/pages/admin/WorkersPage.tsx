// /admin/workers: the live workers (from their heartbeats) by pool, with
// load, version and when each was last heard from.
import { useQuery } from '@tanstack/react-query';
import { useTitle } from '../../lib/title';
import { duration } from '../../lib/format';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Empty, Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { byPool, loadPercent, workerState, type Pool } from './model';
import { fetchWorkers, keys, type Worker } from './queries';

const STATE_TEXT = { live: 'live', late: 'late heartbeat', draining: 'draining' } as const;

function Load({ inFlight, capacity, label }: { inFlight: number; capacity: number; label: string }) {
  return (
    <span className="load">
      <meter min={0} max={Math.max(1, capacity)} value={inFlight} aria-label={label} />
      <span>
        {inFlight} / {capacity} ({loadPercent(inFlight, capacity)}%)
      </span>
    </span>
  );
}

function PoolSection({ pool }: { pool: Pool }) {
  const id = `pool-${pool.name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const versions = [...new Set(pool.workers.map((w) => w.version))];
  return (
    <section className="pool" aria-labelledby={id}>
      <div className="pool-head">
        <h2 id={id}>Pool {pool.name}</h2>
        <span className="muted">
          {pool.workers.length} worker{pool.workers.length === 1 ? '' : 's'}; version{versions.length === 1 ? '' : 's'} {versions.join(', ')}
        </span>
        <Load inFlight={pool.inFlight} capacity={pool.capacity} label={`Load of pool ${pool.name}`} />
      </div>
      <DataTable
        caption={`Workers of pool ${pool.name}`}
        rows={pool.workers}
        rowKey={(w) => w.id}
        columns={[
          { key: 'id', header: 'Worker', cell: (w) => <span className="worker-id">{w.id}</span> },
          {
            key: 'state',
            header: 'Status',
            cell: (w: Worker) => {
              const s = workerState(w);
              return <span className={`badge state-${s}`}>{STATE_TEXT[s]}</span>;
            },
          },
          { key: 'load', header: 'Load', cell: (w) => <Load inFlight={w.in_flight} capacity={w.concurrency} label={`Load of ${w.id}`} /> },
          { key: 'version', header: 'Version', cell: (w) => w.version },
          { key: 'seen', header: 'Last seen', cell: (w) => <Time at={w.last_heartbeat_at} /> },
          { key: 'beat', header: 'Heartbeat every', cell: (w) => duration(w.heartbeat_secs * 1000) },
          { key: 'started', header: 'Started', cell: (w) => <Time at={w.started_at} /> },
        ]}
      />
    </section>
  );
}

export function WorkersPage() {
  useTitle('Workers');
  // Heartbeats come every few seconds: follow them while the page is open.
  const q = useQuery({ queryKey: keys.workers, queryFn: fetchWorkers, refetchInterval: 5000 });
  const pools = q.data ? byPool(q.data.items) : [];
  return (
    <>
      <PageHeader title="Workers" subtitle="Live workers by pool, from their heartbeats; a worker is dropped after three missed ones." />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="workers" />}
      {q.data && pools.length === 0 && <Empty>No worker is sending heartbeats: runs wait until a worker of their pool is up.</Empty>}
      {pools.map((p) => (
        <PoolSection key={p.name} pool={p} />
      ))}
    </>
  );
}
