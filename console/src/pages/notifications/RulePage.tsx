import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { EditAndDelete } from '../../ui/EditAndDelete';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { PreviewResult } from './PreviewResult';
import { fetchSchedules, keys as scheduleKeys } from '../schedules/queries';
import { fetchChannels, fetchGroups, fetchJobs, fetchRule, fetchUsers, keys, previewStoredRule, rulePath, words } from './queries';
import { recipientsText } from './ruleForm';
import { conditionRows, userRecipients } from './ruleSummary';
import { RoomNav } from './RoomNav';
import { shortId } from '../../lib/format';

/** `/notifications/rules/:id`: the rule and what it would have matched lately. */
export function RulePage() {
  const { id = '' } = useParams();
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState(false);
  const q = useQuery({ queryKey: keys.rule(id), queryFn: () => fetchRule(id) });
  const preview = useQuery({ queryKey: [...keys.rulePreview(id), q.data?.revision], queryFn: () => previewStoredRule(id, 20), enabled: Boolean(q.data) });
  const channels = useQuery({ queryKey: keys.channels, queryFn: fetchChannels });
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs });
  const groups = useQuery({ queryKey: ['groups', 'list'], queryFn: fetchGroups });
  const schedules = useQuery({ queryKey: scheduleKeys.list(), queryFn: () => fetchSchedules() });
  const users = useQuery({ queryKey: keys.users, queryFn: fetchUsers, enabled: can('admin') });
  useTitle(q.data?.name ?? 'Rule');
  const del = useMutation({
    mutationFn: () => api.del(rulePath(id)),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.rules });
      void navigate('/notifications/rules');
    },
  });
  if (q.isPending) return <Loading what="the rule" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  const r = q.data;
  const channelName = new Map((channels.data ?? []).map((c) => [c.id, c.name]));
  const jobName = new Map((jobs.data?.items ?? []).map((j) => [j.id, j.name]));
  const c = r.conditions;
  const userName = new Map((users.data?.items ?? []).map((u) => [u.id, u.username]));
  const byName = (items: { id: string; name: string }[] = []) => new Map(items.map((i) => [i.id, i.name]));
  const more = conditionRows(c, { users: userName, schedules: byName(schedules.data?.items), groups: byName(groups.data?.items) });
  return (
    <>
      <PageHeader
        title={r.name}
        subtitle={r.enabled ? 'Enabled' : 'Disabled'}
        actions={
          can('admin') && (
            <EditAndDelete onDelete={() => setConfirm(true)} />
          )
        }
      />
      <RoomNav />
      <section className="card" aria-labelledby="r-def">
        <h2 id="r-def">Rule</h2>
        <dl className="ntf-dl">
          <dt>Triggers</dt>
          <dd>{r.triggers.map(words).join(', ')}</dd>
          <dt>Jobs</dt>
          <dd>
            {c?.job_ids?.length ? c.job_ids.map((j) => jobName.get(j) ?? shortId(j)).join(', ') : 'any'}
            {c?.job_tags?.length ? `; tagged ${c.job_tags.join(', ')}` : ''}
          </dd>
          {c?.statuses && c.statuses.length > 0 && (
            <>
              <dt>Statuses</dt>
              <dd>{c.statuses.map(words).join(', ')}</dd>
            </>
          )}
          {more.map(([label, text]) => (
            <Fragment key={label}>
              <dt>{label}</dt>
              <dd>{text}</dd>
            </Fragment>
          ))}
          <dt>Sends to</dt>
          <dd>
            {r.send_to.map((t) => {
              const who = recipientsText(t.to ?? []);
              const parts = [userRecipients(t.to, userName), who.to, who.job_owner ? 'the job owner' : '', who.started_by ? 'who started the run' : ''].filter(Boolean);
              return (
                <div key={t.channel_id}>
                  {channelName.get(t.channel_id) ?? shortId(t.channel_id)}: {parts.join(', ') || "the channel's defaults"}
                </div>
              );
            })}
          </dd>
          {r.after_failures && (
            <>
              <dt>Only after</dt>
              <dd>{r.after_failures} failures in a row</dd>
            </>
          )}
          {r.throttle && (
            <>
              <dt>Throttle</dt>
              <dd>
                at most {r.throttle.max} per {r.throttle.per_minutes} min, then {words(r.throttle.then)}
              </dd>
            </>
          )}
          {r.escalation && (
            <>
              <dt>Escalation</dt>
              <dd>
                {r.escalation.after_failures ? `after ${r.escalation.after_failures} failures` : ''}
                {r.escalation.unacked_minutes ? ` unacknowledged for ${r.escalation.unacked_minutes} min` : ''} to{' '}
                {r.escalation.send_to.map((t) => channelName.get(t.channel_id) ?? shortId(t.channel_id)).join(', ')}
              </dd>
            </>
          )}
          <dt>Recovery</dt>
          <dd>{r.recovery === false ? 'not announced' : 'announced to everyone alerted'}</dd>
        </dl>
      </section>
      <h2>What it would have matched</h2>
      <ProblemAlert error={preview.error} />
      {preview.isPending && <Loading what="the preview" />}
      {preview.data && <PreviewResult preview={preview.data} label={`Recent notices ${r.name} matches`} />}
      <p className="muted small">Throttles, streaks and escalation depend on the notifier&apos;s state and are not simulated.</p>
      <ConfirmDialog
        open={confirm}
        title={`Delete ${r.name}?`}
        onClose={() => setConfirm(false)}
        onConfirm={() => del.mutate()}
        busy={del.isPending}
        error={del.error}
      >
        <p>Nobody hears of these facts through it any more.</p>
      </ConfirmDialog>
    </>
  );
}
