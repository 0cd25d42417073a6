import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useSession } from '../../auth/session';
import { useEditorForm } from '../../lib/editor';
import { toggled } from '../../lib/lists';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextField, FieldMessage } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { browserZone } from '../schedules/calendar';
import { fetchSchedules, keys as scheduleKeys } from '../schedules/queries';
import type { Kind } from './channelForm';
import { ConditionFields } from './ConditionFields';
import { PreviewResult } from './PreviewResult';
import { fetchChannels, fetchGroups, fetchJobs, fetchRule, fetchUsers, keys, previewRule, rulePath, TRIGGERS, words, type Rule, type RuleBody } from './queries';
import { MAX_SLOW_MARGIN } from './ruleConditions';
import { emptySend, extraEscalations, ruleBodyOf, ruleFormOf, ruleProblems, type RuleForm, type SendTo } from './ruleForm';
import { SendLine } from './SendLine';
import { userItems } from './UserPicker';

/** `/notifications/rules/new` (optionally `?job=<id>`) and `/notifications/rules/:id/edit` (admins). */
export function RuleEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.rule(id ?? ''), queryFn: () => fetchRule(id ?? ''), enabled: Boolean(id) });
  if (id && q.isPending) return <Loading what="the rule" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  return <Editor key={id ?? 'new'} original={id ? q.data : undefined} />;
}

function Editor({ original }: { original?: Rule }) {
  useTitle(original ? `Edit ${original.name}` : 'New rule');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [search] = useSearchParams();
  const { form, set, errors, check, submitWith, leave } = useEditorForm<RuleForm>(() => {
    const f = ruleFormOf(original, browserZone());
    const job = search.get('job');
    if (!original && job) f.job_ids = [job];
    return f;
  });
  const channels = useQuery({ queryKey: keys.channels, queryFn: fetchChannels });
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs });
  const groups = useQuery({ queryKey: ['groups', 'list'], queryFn: fetchGroups });
  const schedules = useQuery({ queryKey: scheduleKeys.list(), queryFn: () => fetchSchedules() });
  const users = useQuery({ queryKey: keys.users, queryFn: fetchUsers, enabled: can('admin') });
  const people = userItems(users.data?.items);
  const kinds = new Map<string, Kind>((channels.data ?? []).map((c) => [c.id, c.kind]));
  const save = useMutation({
    mutationFn: (body: RuleBody) => (original ? api.put<Rule>(rulePath(original.id), body) : api.post<Rule>('/api/v1/notifications/rules', body)),
    onSuccess: async (r) => {
      await qc.invalidateQueries({ queryKey: keys.rules });
      leave(`/notifications/rules/${r.id}`);
    },
  });
  const preview = useMutation({ mutationFn: (body: RuleBody) => previewRule(body, 20) });
  const problem = save.error ?? preview.error;
  const api422 = problem instanceof ApiError ? ruleProblems(problem.fieldErrors) : {};
  const err = (k: string) => errors[k] ?? api422[k];
  const build = () => ruleBodyOf(form, kinds, original);
  const submit = submitWith(save, build);
  const runPreview = () => {
    const body = check(build());
    if (body && !preview.isPending) preview.mutate(body);
  };
  if (!can('admin')) return <ProblemAlert error={new Error('Only admins write rules.')} title="Not allowed" />;
  const list = channels.data ?? [];
  const setLine = (i: number, l: SendTo) => set({ send_to: form.send_to.map((x, j) => (j === i ? l : x)) });
  return (
    <>
      <PageHeader title={original ? `Edit ${original.name}` : 'New rule'} />
      <div className="ntf-layout">
        <form className="card ntf-form" onSubmit={submit} noValidate>
          <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={err('name')} required maxLength={100} />
          <CheckboxField label="Enabled" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
          <fieldset className={err('triggers') ? 'field-error' : undefined}>
            <legend>When</legend>
            <div className="ntf-checks">
              {TRIGGERS.map((t) => (
                <CheckboxField key={t} label={words(t)} checked={form.triggers.includes(t)} onChange={(e) => set({ triggers: toggled(form.triggers, t, e.target.checked) })} />
              ))}
            </div>
            <FieldMessage error={err('triggers')} />
            {form.triggers.includes('run_slow') && (
              <TextField
                label="Slow means this many percent over the usual"
                inputMode="numeric"
                hint={`Over the p95 duration of the job's recent runs; 1 to ${MAX_SLOW_MARGIN}, empty: 50.`}
                value={form.slow_margin_pct}
                onChange={(e) => set({ slow_margin_pct: e.target.value })}
                error={err('slow_margin_pct')}
              />
            )}
          </fieldset>
          <ConditionFields
            form={form}
            set={set}
            err={err}
            jobs={jobs.data?.items ?? []}
            groups={groups.data?.items ?? []}
            schedules={schedules.data?.items ?? []}
            users={people}
          />
          <ProblemAlert error={users.error ?? schedules.error} />
          <ProblemAlert error={channels.error} />
          {form.send_to.map((line, i) => (
            <SendLine
              key={i}
              legend={`Send to, channel ${i + 1}`}
              line={line}
              channels={list}
              users={people}
              error={i === 0 ? err('send_to') : undefined}
              onChange={(l) => setLine(i, l)}
              onRemove={form.send_to.length > 1 ? () => set({ send_to: form.send_to.filter((_, j) => j !== i) }) : undefined}
            />
          ))}
          <Button onClick={() => set({ send_to: [...form.send_to, emptySend()] })}>Add a channel</Button>
          <fieldset>
            <legend>Gates</legend>
            <TextField label="Only after this many failures in a row" inputMode="numeric" hint="Empty: the first one." value={form.after_failures} onChange={(e) => set({ after_failures: e.target.value })} error={err('after_failures')} />
            <CheckboxField label="Throttle repeats" checked={form.throttle} onChange={(e) => set({ throttle: e.target.checked })} />
            {form.throttle && (
              <>
                <TextField label="At most" inputMode="numeric" value={form.throttle_max} onChange={(e) => set({ throttle_max: e.target.value })} error={err('throttle_max')} />
                <TextField label="Per minutes" inputMode="numeric" value={form.throttle_per} onChange={(e) => set({ throttle_per: e.target.value })} error={err('throttle_per')} />
                <SelectField
                  label="Beyond that"
                  value={form.throttle_then}
                  onChange={(e) => set({ throttle_then: e.target.value as RuleForm['throttle_then'] })}
                  options={[
                    { value: 'silence_until_success', label: 'silence until the job succeeds' },
                    { value: 'digest', label: 'one digest when the period ends' },
                  ]}
                />
              </>
            )}
            <CheckboxField label="Tell everyone alerted when the job recovers" checked={form.recovery} onChange={(e) => set({ recovery: e.target.checked })} />
          </fieldset>
          <fieldset>
            <legend>Escalation</legend>
            <CheckboxField label="Escalate" checked={form.escalate} onChange={(e) => set({ escalate: e.target.checked })} />
            {form.escalate && (
              <>
                <TextField label="After this many failures in a row" inputMode="numeric" value={form.esc_after_failures} onChange={(e) => set({ esc_after_failures: e.target.value })} error={err('esc_after_failures')} />
                <TextField label="Or when unacknowledged for (minutes)" inputMode="numeric" value={form.esc_unacked} onChange={(e) => set({ esc_unacked: e.target.value })} error={err('esc_unacked')} />
                <SendLine legend="Escalate to" line={form.esc_send_to} channels={list} users={people} error={err('esc_send_to')} onChange={(l) => set({ esc_send_to: l })} />
                {extraEscalations(original).length > 0 && (
                  <p className="field-hint">It also escalates to {extraEscalations(original).length} more channel(s), set through the API; saving keeps them.</p>
                )}
              </>
            )}
          </fieldset>
          <ProblemAlert error={save.error} />
          <div className="form-actions">
            <Button type="submit" variant="primary" busy={save.isPending}>
              {original ? 'Save' : 'Create rule'}
            </Button>
            <Button busy={preview.isPending} onClick={runPreview}>
              Preview matches
            </Button>
            <Button onClick={() => void navigate(original ? `/notifications/rules/${original.id}` : '/notifications/rules')}>Cancel</Button>
          </div>
        </form>
        <section className="card" aria-labelledby="r-preview">
          <h2 id="r-preview">Preview</h2>
          <p className="muted small">What this rule, as written, would have matched among the notices of the last 7 days (throttles and streaks are not simulated).</p>
          <ProblemAlert error={preview.error} />
          {preview.data ? <PreviewResult preview={preview.data} label="Notices the rule would have matched" /> : <p className="muted">Press “Preview matches”.</p>}
        </section>
      </div>
    </>
  );
}
