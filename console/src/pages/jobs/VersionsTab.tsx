// The versions of a job, and a line diff of any two of them.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { stringify } from 'yaml';
import { DataTable } from '../../ui/DataTable';
import { SelectField } from '../../ui/Field';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { fetchVersion, fetchVersions, keys } from './api';
import { diffStats, lineDiff, sign } from './diff';
import { shortId } from '../../lib/format';

function useVersionYaml(id: string, v: number | null) {
  return useQuery({
    queryKey: keys.version(id, v ?? 0),
    queryFn: async () => stringify((await fetchVersion(id, v ?? 0)).definition),
    enabled: v !== null,
    staleTime: Infinity,
  });
}

/** The Versions tab (a chunk of its own). */
export default function VersionsTab({ jobId, current }: { jobId: string; current: number }) {
  const list = useQuery({ queryKey: keys.versions(jobId), queryFn: () => fetchVersions(jobId) });
  const [from, setFrom] = useState<number | null>(current > 1 ? current - 1 : null);
  const [to, setTo] = useState<number | null>(current);
  const a = useVersionYaml(jobId, from);
  const b = useVersionYaml(jobId, to);
  if (list.isPending) return <Loading what="versions" />;
  if (list.error) return <ProblemAlert error={list.error} />;
  const versions = list.data.items;
  const options = versions.map((v) => ({ value: String(v.version), label: `Version ${v.version}` }));
  const lines = a.data !== undefined && b.data !== undefined ? lineDiff(a.data, b.data) : null;
  const stats = lines ? diffStats(lines) : null;
  return (
    <div className="stack">
      <h2>Versions</h2>
      <DataTable
        rows={versions}
        caption="Versions of this job"
        rowKey={(v) => String(v.version)}
        columns={[
          { key: 'v', header: 'Version', cell: (v) => (v.version === current ? `${v.version} (current)` : v.version), numeric: true },
          { key: 'at', header: 'Saved', cell: (v) => <Time at={v.created_at} /> },
          { key: 'by', header: 'Saved by', cell: (v) => (v.created_by ? <code>{shortId(v.created_by)}</code> : <span className="muted">—</span>) },
        ]}
      />
      <h3>Compare</h3>
      {versions.length < 2 ? (
        <p className="muted">This job has one version; there is nothing to compare yet.</p>
      ) : (
        <>
          <div className="row jobs-compare">
            <SelectField
              label="Older version"
              value={from === null ? '' : String(from)}
              onChange={(e) => setFrom(Number(e.target.value))}
              options={[...(from === null ? [{ value: '', label: 'Choose…' }] : []), ...options]}
            />
            <SelectField label="Newer version" value={to === null ? '' : String(to)} onChange={(e) => setTo(Number(e.target.value))} options={options} />
          </div>
          <ProblemAlert error={a.error ?? b.error} />
          {(a.isFetching || b.isFetching) && <Loading what="the versions" />}
          {lines && stats && (
            <>
              <p aria-live="polite">
                Version {from} → version {to}: {stats.added} line{stats.added === 1 ? '' : 's'} added, {stats.removed} removed.
              </p>
              <div className="jobs-diff" role="region" aria-label={`Changes from version ${from} to version ${to}`} tabIndex={0}>
                {lines.map((l, i) => (
                  <div key={i} className={`jobs-diff-line jobs-diff-${l.kind}`}>
                    <span className="jobs-diff-no" aria-hidden="true">
                      {l.oldNo ?? ''}
                    </span>
                    <span className="jobs-diff-no" aria-hidden="true">
                      {l.newNo ?? ''}
                    </span>
                    <span className="jobs-diff-sign">
                      {l.kind === 'same' ? <span aria-hidden="true"> </span> : <span title={l.kind}>{sign(l.kind)}</span>}
                      <span className="sr-only">{l.kind === 'same' ? '' : `${l.kind}: `}</span>
                    </span>
                    <code>{l.text || ' '}</code>
                  </div>
                ))}
              </div>
            </>
          )}
        </>
      )}
    </div>
  );
}
