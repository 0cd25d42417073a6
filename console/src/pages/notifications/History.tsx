import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { SelectField, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Empty, Loading, StatusBadge } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { browserZone } from '../schedules/calendar';
import { FILTERS, historyQuery, PAGE, withFilter, type Filter } from './history';
import { fetchChannels, fetchHistory, fetchJobs, keys, STATUSES, words } from './queries';
import { RoomNav } from './RoomNav';
import { shortId } from '../../lib/format';

/** `/notifications`: what was sent, held, dropped or dead-lettered, newest first, with filters in the URL. */
export function History() {
  useTitle('Notifications');
  const { can } = useSession();
  const [search, setSearch] = useSearchParams();
  const [draft, setDraft] = useState<Record<Filter, string>>(() => Object.fromEntries(FILTERS.map((k) => [k, search.get(k) ?? ''])) as Record<Filter, string>);
  const query = historyQuery(search, browserZone());
  const q = useQuery({ queryKey: keys.history(query), queryFn: () => fetchHistory(query), refetchInterval: 10_000 });
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs });
  const channels = useQuery({ queryKey: keys.channels, queryFn: fetchChannels, enabled: can('operator') });
  const channelName = new Map((channels.data ?? []).map((c) => [c.id, c.name]));
  const jobName = new Map((jobs.data?.items ?? []).map((j) => [j.id, j.name]));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    let next = new URLSearchParams();
    for (const k of FILTERS) next = withFilter(next, k, draft[k]);
    setSearch(next);
  };
  const set = (k: Filter, v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const offset = Number(query.offset ?? 0);
  const total = q.data?.total ?? 0;
  return (
    <>
      <PageHeader title="Notifications" subtitle="Every message the notifier sent, held, dropped or gave up on." />
      <RoomNav />
      <form className="ntf-filters" onSubmit={apply} aria-label="Filters">
        <SelectField label="Status" value={draft.status} onChange={(e) => set('status', e.target.value)} options={[{ value: '', label: 'Any' }, ...STATUSES.map((s) => ({ value: s, label: words(s) }))]} />
        <SelectField
          label="Job"
          value={draft.job_id}
          onChange={(e) => set('job_id', e.target.value)}
          options={[{ value: '', label: 'Any' }, ...(jobs.data?.items ?? []).map((j) => ({ value: j.id, label: j.name }))]}
        />
        {can('operator') && (
          <SelectField
            label="Channel"
            value={draft.channel_id}
            onChange={(e) => set('channel_id', e.target.value)}
            options={[{ value: '', label: 'Any' }, ...(channels.data ?? []).map((c) => ({ value: c.id, label: c.name }))]}
          />
        )}
        <TextField label="Run id" value={draft.run_id} onChange={(e) => set('run_id', e.target.value)} spellCheck={false} />
        <TextField label="Since" type="datetime-local" value={draft.since} onChange={(e) => set('since', e.target.value)} />
        <TextField label="Until" type="datetime-local" value={draft.until} onChange={(e) => set('until', e.target.value)} />
        <Button type="submit" variant="primary">
          Apply filters
        </Button>
        <Button
          onClick={() => {
            setDraft(Object.fromEntries(FILTERS.map((k) => [k, ''])) as Record<Filter, string>);
            setSearch(new URLSearchParams());
          }}
        >
          Clear
        </Button>
      </form>
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="notifications" />}
      {q.data && q.data.items.length === 0 && <Empty>{search.toString() ? 'No notification matches these filters.' : 'No notifications yet.'}</Empty>}
      {q.data && q.data.items.length > 0 && (
        <>
          <DataTable
            caption="Notifications, newest first"
            rows={q.data.items}
            rowKey={(n) => n.id}
            empty={search.toString() ? 'No notification matches these filters.' : 'No notifications yet.'}
            columns={[
              { key: 'at', header: 'When', cell: (n) => <Time at={n.first_at} /> },
              { key: 'status', header: 'Status', cell: (n) => <StatusBadge status={n.status} /> },
              { key: 'subject', header: 'Subject', cell: (n) => <Link to={`/notifications/${n.id}`}>{n.subject || '(no subject)'}</Link> },
              { key: 'trigger', header: 'Trigger', cell: (n) => words(n.trigger ?? n.origin) },
              { key: 'job', header: 'Job', cell: (n) => (n.job_id ? <Link to={`/jobs/${n.job_id}`}>{jobName.get(n.job_id) ?? shortId(n.job_id)}</Link> : '—') },
              { key: 'channel', header: 'Channel', cell: (n) => `${channelName.get(n.channel_id) ?? n.channel_kind}` },
              { key: 'to', header: 'Recipient', cell: (n) => n.recipient },
              { key: 'tries', header: 'Attempts', numeric: true, cell: (n) => `${n.attempts}/${n.max_attempts}` },
            ]}
          />
          {total > PAGE && (
            <div className="ntf-pager" role="group" aria-label="Pages">
              <Button disabled={offset === 0} onClick={() => setSearch(withFilter(search, 'offset', String(Math.max(0, offset - PAGE))))}>
                Newer
              </Button>
              <span className="muted">
                {offset + 1}–{Math.min(offset + PAGE, total)} of {total}
              </span>
              <Button disabled={offset + PAGE >= total} onClick={() => setSearch(withFilter(search, 'offset', String(offset + PAGE)))}>
                Older
              </Button>
            </div>
          )}
        </>
      )}
    </>
  );
}
