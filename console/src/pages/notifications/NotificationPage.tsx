import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { useSession } from '../../auth/session';
import { dateTime, duration, shortId } from '../../lib/format';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading, StatusBadge } from '../../ui/Status';
import { ack, fetchNotification, keys, resendOne, words } from './queries';

/** Put before a message's HTML in its frame: load nothing (images, styles, fonts, frames), whatever the page allows. */
const FRAME_POLICY = '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">';

const ACKABLE = new Set(['delivered', 'failed', 'dead_lettered', 'held']);

/** `/notifications/:id`: the message as rendered, every attempt, acknowledge (and resend for admins). */
export function NotificationPage() {
  const { id = '' } = useParams();
  const { can, user } = useSession();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.one(id), queryFn: () => fetchNotification(id), refetchInterval: 15_000 });
  useTitle(q.data?.subject ?? 'Notification');
  const doAck = useMutation({
    mutationFn: () => ack(id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['notifications'] });
    },
  });
  const resend = useMutation({ mutationFn: () => resendOne(id), onSuccess: () => qc.invalidateQueries({ queryKey: ['notifications'] }) });
  if (q.isPending) return <Loading what="the notification" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const n = q.data;
  const mayAck = ACKABLE.has(n.status) && !n.acked_at && (can('operator') || n.user_id === user?.id);
  return (
    <>
      <PageHeader
        title={n.subject || '(no subject)'}
        subtitle={
          <>
            <StatusBadge status={n.status} /> {words(n.trigger ?? n.origin)} · {n.channel_kind} to {n.recipient}
          </>
        }
        actions={
          <>
            {mayAck && (
              <Button variant="primary" busy={doAck.isPending} onClick={() => doAck.mutate()}>
                Acknowledge
              </Button>
            )}
            {can('admin') && n.status === 'dead_lettered' && (
              <Button busy={resend.isPending} disabled={resend.isSuccess} onClick={() => resend.mutate()}>
                {resend.isSuccess ? 'Resend asked' : 'Resend'}
              </Button>
            )}
          </>
        }
      />
      <ProblemAlert error={doAck.error ?? resend.error} />
      {doAck.data && (
        <div className="alert alert-info" role="status">
          {doAck.data.first ? 'Acknowledged: no escalation follows.' : `Already acknowledged by ${doAck.data.acked_by_name ?? 'someone'}.`}
        </div>
      )}
      <div className="ntf-layout">
        <section className="card" aria-labelledby="n-msg">
          <h2 id="n-msg">Message</h2>
          <pre className="ntf-message" aria-label="Message text">
            {n.text}
          </pre>
          {n.html && (
            <>
              <details>
                <summary>HTML body, rendered</summary>
                {/* No scripts, forms or same-origin access (an empty sandbox);
                    the frame's own policy, on top of the page's that a
                    srcdoc frame inherits, loads nothing at all, so nothing
                    calls home. */}
                <iframe className="ntf-html" sandbox="" srcDoc={FRAME_POLICY + n.html} title="HTML body as sent" referrerPolicy="no-referrer" />
              </details>
              <details>
                <summary>HTML body (source)</summary>
                <pre className="ntf-message">{n.html}</pre>
              </details>
            </>
          )}
        </section>
        <section className="card" aria-labelledby="n-about">
          <h2 id="n-about">About</h2>
          <dl className="ntf-dl">
            <dt>First</dt>
            <dd>{dateTime(n.first_at)}</dd>
            <dt>Latest</dt>
            <dd>{dateTime(n.last_at)}</dd>
            <dt>Attempts</dt>
            <dd>
              {n.attempts} of {n.max_attempts}
            </dd>
            <dt>Origin</dt>
            <dd>{words(n.origin)}</dd>
            {n.job_id && (
              <>
                <dt>Job</dt>
                <dd>
                  <Link to={`/jobs/${n.job_id}`}>{shortId(n.job_id)}</Link>
                </dd>
              </>
            )}
            {n.run_id && (
              <>
                <dt>Run</dt>
                <dd>
                  <Link to={`/runs/${n.run_id}`}>{shortId(n.run_id)}</Link>
                </dd>
              </>
            )}
            {n.rule_id && can('operator') && (
              <>
                <dt>Rule</dt>
                <dd>
                  <Link to={`/notifications/rules/${n.rule_id}`}>{shortId(n.rule_id)}</Link>
                </dd>
              </>
            )}
            {n.error && (
              <>
                <dt>Error</dt>
                <dd>{n.error}</dd>
              </>
            )}
            {n.acked_at && (
              <>
                <dt>Acknowledged</dt>
                <dd>
                  {dateTime(n.acked_at)} by {n.acked_by_name ?? 'someone'}
                </dd>
              </>
            )}
          </dl>
        </section>
      </div>
      <h2>Attempts</h2>
      <DataTable
        caption="Attempts, oldest first"
        rows={n.attempts_made}
        rowKey={(a) => a.event_id}
        empty="No attempt recorded."
        columns={[
          { key: 'at', header: 'Started', cell: (a) => dateTime(a.started_at) },
          { key: 'n', header: 'Attempt', numeric: true, cell: (a) => a.attempt },
          { key: 'status', header: 'Status', cell: (a) => <StatusBadge status={a.status} /> },
          { key: 'took', header: 'Took', numeric: true, cell: (a) => duration(a.duration_ms) },
          { key: 'error', header: 'Error', cell: (a) => a.error ?? '—' },
          { key: 'replica', header: 'Replica', cell: (a) => <span className="mono small">{a.replica}</span> },
        ]}
      />
    </>
  );
}
