import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { api } from '../../api/client';
import { ApiError, messageOf } from '../../api/errors';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { dateTime } from '../../lib/format';
import { useEditorForm } from '../../lib/editor';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { initialValues, type ParamSpec } from '../jobs/params';
import { allZones, browserZone } from './calendar';
import { readCron } from './cron';
import { ParamField } from '../jobs/ParamField';
import { PickList } from '../../ui/PickList';
import { PARAM_LOOK, PICK_LOOK } from './fields';
import { fetchGroups, fetchJob, fetchJobs, fetchNextOf, fetchSchedule, fetchTargets, keys, kindText, schedulePath, type Schedule } from './queries';
import { bodyOf, formOf, patchOf, previewOf, problemsByField, type ScheduleForm } from './scheduleForm';

const specsOf = (job: Schemas['JobView'] | undefined): Record<string, ParamSpec> => (job?.definition.parameters ?? {}) as Record<string, ParamSpec>;

/** `/schedules/new` (optionally `?job=<id>`) and `/schedules/:id/edit`. */
export function ScheduleEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.one(id ?? ''), queryFn: () => fetchSchedule(id ?? ''), enabled: Boolean(id) });
  const job = useQuery({ queryKey: ['jobs', 'one', q.data?.job_id], queryFn: () => fetchJob(q.data?.job_id ?? ''), enabled: Boolean(q.data) });
  if (id && q.isPending) return <Loading what="the schedule" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  if (id && job.isPending) return <Loading what="its job" />;
  return <Editor key={id ?? 'new'} original={id ? q.data : undefined} originalJob={id ? job.data : undefined} />;
}

function Editor({ original, originalJob }: { original?: Schedule; originalJob?: Schemas['JobView'] }) {
  useTitle(original ? `Edit ${original.name}` : 'New schedule');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [search] = useSearchParams();
  const { initial, form, setForm, set, errors, submitWith, leave } = useEditorForm<ScheduleForm>(() => {
    const f = formOf(original, specsOf(originalJob), browserZone());
    if (!original && search.get('job')) f.job_id = search.get('job') ?? '';
    return f;
  });
  const zones = useMemo(() => allZones(), []);
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs });
  const job = useQuery({ queryKey: ['jobs', 'one', form.job_id], queryFn: () => fetchJob(form.job_id), enabled: Boolean(form.job_id) });
  const specs = form.job_id === original?.job_id && originalJob ? specsOf(originalJob) : specsOf(job.data);
  const targets = useQuery({ queryKey: ['targets', 'list', { all: true }], queryFn: fetchTargets, enabled: form.own_targets });
  const groups = useQuery({ queryKey: ['groups', 'list'], queryFn: fetchGroups, enabled: form.own_targets });
  // The next fires of the form as typed, from the api's cron engine (the
  // one that fires), asked for once typing pauses.
  const typed = useMemo(() => previewOf(form), [form]);
  const [asked, setAsked] = useState(typed);
  useEffect(() => {
    const t = window.setTimeout(() => setAsked(typed), 400);
    return () => window.clearTimeout(t);
  }, [typed]);
  const next = useQuery({
    queryKey: keys.nextOf(asked),
    queryFn: () => fetchNextOf(asked as NonNullable<typeof asked>),
    enabled: asked !== null,
    placeholderData: (previous) => previous,
    retry: false,
  });

  // A new job brings its own parameters: start them from its defaults.
  const [paramsOf, setParamsOf] = useState(initial.job_id);
  const loadedJob = job.data;
  useEffect(() => {
    if (!loadedJob || loadedJob.id !== form.job_id || paramsOf === form.job_id) return;
    setParamsOf(form.job_id);
    if (form.job_id !== original?.job_id) setForm((f) => ({ ...f, params: initialValues(specsOf(loadedJob)) }));
  }, [loadedJob, form.job_id, paramsOf, original?.job_id, setForm]);

  const save = useMutation({
    mutationFn: (body: Schemas['ScheduleBody'] | Record<string, unknown>) =>
      original ? api.patch<Schedule>(schedulePath(original.id), body) : api.post<Schedule>('/api/v1/schedules', body),
    onSuccess: async (s) => {
      await qc.invalidateQueries({ queryKey: keys.all });
      qc.setQueryData(keys.one(s.id), s);
      leave(`/schedules/${s.id}`);
    },
  });
  const apiProblems = save.error instanceof ApiError ? problemsByField(save.error.fieldErrors) : { byField: {}, rest: [] };
  const err = (field: string): string | undefined => errors[field] ?? (apiProblems.byField as Record<string, string>)[field];

  const submit = submitWith(save, () => (original ? patchOf(initial, form, specs, original) : bodyOf(form, specs)));

  if (!can('operator')) return <ProblemAlert error={new Error('Viewers cannot change schedules.')} title="Not allowed" />;
  const reading = readCron(form.cron);
  const secretNote = original && original.secret_parameters.length > 0;
  return (
    <>
      <PageHeader title={original ? `Edit ${original.name}` : 'New schedule'} />
      <form className="form card sched-form" onSubmit={submit} noValidate>
        <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={err('name')} required maxLength={100} />
        <TextField label="Description" value={form.description} onChange={(e) => set({ description: e.target.value })} error={err('description')} />
        <ProblemAlert error={jobs.error} />
        <SelectField
          label="Job"
          value={form.job_id}
          onChange={(e) => set({ job_id: e.target.value })}
          error={err('job_id')}
          options={[
            { value: '', label: jobs.isPending ? 'Loading jobs…' : 'Choose a job…' },
            ...(jobs.data?.items ?? []).map((j) => ({ value: j.id, label: j.active ? j.name : `${j.name} (inactive)` })),
            ...(original && !(jobs.data?.items ?? []).some((j) => j.id === original.job_id) ? [{ value: original.job_id, label: original.job_name ?? original.job_id }] : []),
          ]}
        />
        <TextField
          label="Cron expression"
          className="mono"
          value={form.cron}
          onChange={(e) => set({ cron: e.target.value })}
          error={err('cron')}
          placeholder="*/15 * * * *"
          autoComplete="off"
          spellCheck={false}
          hint={
            <span aria-live="polite">
              {form.cron.trim() ? (reading.ok ? `Reads: ${reading.text}.` : `Cannot read it: ${reading.error}`) : 'minute hour day-of-month month day-of-week (six fields: seconds first), or @daily, @hourly…'}
            </span>
          }
        />
        <SelectField
          label="Time zone"
          value={form.time_zone}
          onChange={(e) => set({ time_zone: e.target.value })}
          error={err('time_zone')}
          hint="The expression names wall-clock times in this zone."
          options={(zones.includes(form.time_zone) ? zones : [form.time_zone, ...zones]).map((z) => ({ value: z, label: z }))}
        />
        <CheckboxField label="Enabled" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />

        <fieldset>
          <legend>Parameters</legend>
          {secretNote && (
            <p className="field-hint">
              Stored secret values ({original.secret_parameters.join(', ')}) are kept unless you change a parameter; then type them again.
            </p>
          )}
          {form.job_id && job.isPending && <Loading what="the job's parameters" />}
          {Object.keys(specs).length === 0 && <p className="muted">{form.job_id ? 'The job takes no parameters.' : 'Choose a job first.'}</p>}
          {Object.entries(specs).map(([name, spec]) => (
            <ParamField key={name} name={name} spec={spec} value={form.params[name] ?? ''} error={err(`parameters.${name}`)} onChange={(v) => set({ params: { ...form.params, [name]: v } })} look={PARAM_LOOK} />
          ))}
        </fieldset>

        <fieldset>
          <legend>Targets</legend>
          <CheckboxField label="Run on other targets than the job's" checked={form.own_targets} onChange={(e) => set({ own_targets: e.target.checked })} />
          {form.own_targets && (
            <>
              <TextField label="Targets with all of these tags" hint="Comma-separated." value={form.tags} onChange={(e) => set({ tags: e.target.value })} error={err('targets')} />
              <PickList legend="Target groups" items={groups.data?.items ?? []} chosen={form.groups} onChange={(ids) => set({ groups: ids })} look={PICK_LOOK} />
              <PickList legend="Targets" items={targets.data?.items ?? []} chosen={form.targets} onChange={(ids) => set({ targets: ids })} look={PICK_LOOK} />
            </>
          )}
        </fieldset>

        <details className="sched-more">
          <summary>Daylight saving, missed fires, start and end</summary>
          <SelectField
            label="A fire time in a spring-forward gap"
            value={form.gap}
            onChange={(e) => set({ gap: e.target.value as ScheduleForm['gap'] })}
            error={err('dst')}
            options={[
              { value: 'shift', label: 'fires right after the gap (shift)' },
              { value: 'skip', label: 'is skipped that day (skip)' },
            ]}
          />
          <SelectField
            label="A fire time in a repeated fall-back hour"
            value={form.overlap}
            onChange={(e) => set({ overlap: e.target.value as ScheduleForm['overlap'] })}
            options={[
              { value: 'first', label: 'fires at the first (first)' },
              { value: 'second', label: 'fires at the second (second)' },
              { value: 'both', label: 'fires at both (both)' },
            ]}
          />
          <SelectField
            label="Missed fires"
            value={form.misfire_mode}
            onChange={(e) => set({ misfire_mode: e.target.value as ScheduleForm['misfire_mode'] })}
            options={[
              { value: 'run_once', label: 'run the latest once (run once)' },
              { value: 'run_all', label: 'run each, oldest first (run all)' },
              { value: 'skip', label: 'skip them (skip)' },
            ]}
          />
          <TextField label="Drop missed fires older than (seconds)" inputMode="numeric" value={form.misfire_max_age} onChange={(e) => set({ misfire_max_age: e.target.value })} error={err('misfire')} />
          <TextField label={`No fire before (${form.time_zone})`} type="datetime-local" value={form.start_at} onChange={(e) => set({ start_at: e.target.value })} error={err('start_at')} />
          <TextField label={`No fire after (${form.time_zone})`} type="datetime-local" value={form.end_at} onChange={(e) => set({ end_at: e.target.value })} error={err('end_at')} />
        </details>

        <section className="sched-preview" aria-labelledby="e-next" aria-live="polite">
          <h2 id="e-next">Next fires</h2>
          {asked === null ? (
            <p className="muted">They show here once there is an expression.</p>
          ) : next.error ? (
            <p className="muted">None while the expression, zone or bounds are wrong: {messageOf(next.error)}.</p>
          ) : (
            next.data && (
              <ol className="sched-next">
                {next.data.items.map((o) => (
                  <li key={o.at}>
                    {o.local.replace('T', ' ')} <span className="muted">({dateTime(o.at)} your time)</span>
                    {o.kind !== 'regular' && <span className="badge status-skipped"> {kindText(o.kind)}</span>}
                  </li>
                ))}
                {next.data.items.length === 0 && <li className="muted">None.</li>}
              </ol>
            )
          )}
          <p className="field-hint">In the schedule&apos;s zone, as typed, computed by the api&apos;s cron engine (the one that fires); nothing is saved until you {original ? 'save' : 'create it'}.</p>
        </section>

        <ProblemAlert error={save.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>
            {original ? 'Save' : 'Create schedule'}
          </Button>
          <Button onClick={() => void navigate(original ? `/schedules/${original.id}` : '/schedules')}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
