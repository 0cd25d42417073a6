import { Link } from 'react-router';
import { dateTime, shortId } from '../../lib/format';
import { DataTable } from '../../ui/DataTable';
import { StatusBadge } from '../../ui/Status';
import { words, type Preview } from './queries';

type Match = Preview['matches'][number];

function about(m: Match) {
  const n = m.notice;
  if (n.run) {
    return (
      <>
        <Link to={`/jobs/${n.run.job.id}`}>{n.run.job.name}</Link> run <Link to={`/runs/${n.run.run_id}`}>{shortId(n.run.run_id)}</Link>
      </>
    );
  }
  if (n.schedule) return <Link to={`/schedules/${n.schedule.schedule_id}`}>{n.schedule.name}</Link>;
  if (n.target) return n.target.name;
  return words(n.kind);
}

/** What a rule would have matched among the recent notices. */
export function PreviewResult({ preview, label }: { preview: Preview; label: string }) {
  return (
    <section aria-label={label}>
      <p role="status">
        {preview.matches.length === 0 ? 'It would have matched none' : `It would have matched ${preview.matches.length}`} of the {preview.scanned} notices of the last 7 days.
      </p>
      {preview.matches.length > 0 && (
        <DataTable
          caption={label}
          rows={preview.matches}
          rowKey={(m) => m.notice.notice_id}
          columns={[
            { key: 'at', header: 'When', cell: (m) => dateTime(m.notice.at) },
            { key: 'about', header: 'About', cell: about },
            { key: 'status', header: 'Status', cell: (m) => (m.notice.run ? <StatusBadge status={m.notice.run.status} /> : '—') },
            { key: 'triggers', header: 'Triggers matched', cell: (m) => m.triggers.map(words).join(', ') },
          ]}
        />
      )}
    </section>
  );
}
