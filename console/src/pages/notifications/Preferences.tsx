import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/errors';
import { useSession } from '../../auth/session';
import { useSubmitGuard } from '../../lib/editor';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { PickList } from '../../ui/PickList';
import { PICK_LOOK } from '../schedules/fields';
import { prefsBodyOf, prefsFormOf, quietText, type Level, type PrefsForm } from './prefsForm';
import { fetchChannels, fetchDefaults, fetchJobs, fetchPrefs, keys, savePrefs, type Prefs } from './queries';
import { RoomNav } from './RoomNav';
import { DaysField, ZoneField } from './TimeFields';
import { shortId } from '../../lib/format';

const LEVELS: { value: Level; label: string }[] = [
  { value: 'all', label: 'everything' },
  { value: 'failures_only', label: 'failures only' },
  { value: 'successes_only', label: 'successes only' },
  { value: 'none', label: 'nothing' },
];

/** `/notifications/preferences`: my quiet hours, subscriptions and channel levels. */
export function Preferences() {
  useTitle('My notification preferences');
  const q = useQuery({ queryKey: keys.prefs, queryFn: fetchPrefs });
  return (
    <>
      <PageHeader title="My preferences" subtitle="What reaches you, through which channel, and when to stay quiet." />
      <RoomNav />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="your preferences" />}
      {q.data && <Form key={q.data.user_id} prefs={q.data} />}
    </>
  );
}

function Form({ prefs }: { prefs: Prefs }) {
  const { can } = useSession();
  const qc = useQueryClient();
  const guard = useSubmitGuard();
  const [initial, setInitial] = useState(() => prefsFormOf(prefs));
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs });
  const channels = useQuery({ queryKey: keys.channels, queryFn: fetchChannels, enabled: can('operator') });
  const defaults = useQuery({ queryKey: keys.defaults, queryFn: fetchDefaults });
  const save = useMutation({
    mutationFn: savePrefs,
    onSuccess: (p) => {
      qc.setQueryData(keys.prefs, p);
      const f = prefsFormOf(p);
      setInitial(f);
      setForm(f);
    },
  });
  const dirty = JSON.stringify(form) !== JSON.stringify(initial);
  useUnsavedChanges(dirty);
  const set = (patch: Partial<PrefsForm>) => setForm((f) => ({ ...f, ...patch }));
  const api422: Record<string, string> = {};
  if (save.error instanceof ApiError) {
    for (const e of save.error.fieldErrors) {
      const [top = '', sub = ''] = e.path.split('/').filter(Boolean);
      api422[top === 'quiet_hours' ? `quiet_${sub || 'from'}` : top] = e.message;
    }
  }
  const err = (k: string) => errors[k] ?? api422[k];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const built = prefsBodyOf(form, prefs);
    if (!built.ok) return setErrors(built.errors);
    setErrors({});
    guard((done) => save.mutate(built.body, { onSettled: done }));
  };
  // Channels: every one an operator can list; a viewer sees those already in their preferences.
  const known = channels.data?.map((c) => ({ id: c.id, name: `${c.name} (${c.kind})`, kind: c.kind })) ?? Object.keys(form.levels).map((id) => ({ id, name: shortId(id), kind: 'email' as const }));
  const personal = known.filter((c) => c.kind === 'email' || c.kind === 'slack');
  return (
    <form className="form card ntf-form" onSubmit={submit} noValidate>
      {save.isSuccess && !dirty && (
        <div className="alert alert-info" role="status">
          Saved.
        </div>
      )}
      <p className="muted small">
        Reached by email at {prefs.email ?? 'no address on your account'}
        {prefs.slack_user ? ` and on Slack as ${prefs.slack_user}` : ''}.
      </p>
      <ZoneField label="My time zone" value={form.time_zone} onChange={(z) => set({ time_zone: z })} error={err('time_zone')} />
      <TextField label="Slack member id" placeholder="U012AB3CD" hint="For direct messages." value={form.slack_user} onChange={(e) => set({ slack_user: e.target.value })} error={err('slack_user')} />
      <fieldset>
        <legend>Quiet hours</legend>
        <CheckboxField label="Turn quiet hours off (mine and the defaults')" checked={form.quiet_hours_off} onChange={(e) => set({ quiet_hours_off: e.target.checked })} />
        {!form.quiet_hours_off && (
          <>
            <CheckboxField label="My own quiet hours" checked={form.quiet} onChange={(e) => set({ quiet: e.target.checked })} />
            {!form.quiet && <p className="field-hint">The defaults apply: {quietText(defaults.data?.quiet_hours)}.</p>}
            {form.quiet && (
              <>
                <div className="row">
                  <TextField label="From" type="time" value={form.quiet_from} onChange={(e) => set({ quiet_from: e.target.value })} error={err('quiet_from')} />
                  <TextField label="To" type="time" value={form.quiet_to} onChange={(e) => set({ quiet_to: e.target.value })} error={err('quiet_to')} />
                </div>
                <DaysField legend="On (none: every day)" days={form.quiet_days} onChange={(days) => set({ quiet_days: days })} />
                <SelectField
                  label="Messages meanwhile"
                  value={form.quiet_mode}
                  onChange={(e) => set({ quiet_mode: e.target.value as PrefsForm['quiet_mode'] })}
                  options={[
                    { value: 'digest', label: 'held, then one digest' },
                    { value: 'drop', label: 'dropped' },
                  ]}
                />
                <p className="field-hint">Failures of jobs marked critical reach you anyway.</p>
              </>
            )}
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>Subscriptions</legend>
        <CheckboxField label="Runs I start" checked={form.own_runs} onChange={(e) => set({ own_runs: e.target.checked })} />
        <div className="ntf-pick">
          <PickList legend="Jobs" items={jobs.data?.items ?? []} chosen={form.job_ids} onChange={(ids) => set({ job_ids: ids })} error={err('subscriptions')} look={PICK_LOOK} />
        </div>
        <TextField label="Jobs tagged any of" hint="Comma-separated." value={form.tags} onChange={(e) => set({ tags: e.target.value })} />
        {can('operator') && (
          <PickList legend="Deliver my subscriptions through (none: the defaults)" items={personal} chosen={form.sub_channels} onChange={(ids) => set({ sub_channels: ids })} look={PICK_LOOK} />
        )}
      </fieldset>
      {known.length > 0 && (
        <fieldset>
          <legend>How much of each channel</legend>
          {known.map((c) => (
            <SelectField
              key={c.id}
              label={c.name}
              value={form.levels[c.id] ?? 'all'}
              onChange={(e) => set({ levels: { ...form.levels, [c.id]: e.target.value as Level } })}
              options={LEVELS}
            />
          ))}
        </fieldset>
      )}
      <ProblemAlert error={save.error} />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
          Save preferences
        </Button>
        <Button disabled={!dirty} onClick={() => setForm(initial)}>
          Undo changes
        </Button>
      </div>
    </form>
  );
}
