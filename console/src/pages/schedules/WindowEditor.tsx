import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useNavigate, useParams } from 'react-router';
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
import { allZones, browserZone } from './calendar';
import { PickList } from '../../ui/PickList';
import { PICK_LOOK } from './fields';
import { fetchGroups, fetchJobs, fetchTargets, fetchWindow, keys, windowPath, type Window } from './queries';
import { ISO_DAYS, windowBodyOf, windowFormOf, type WindowForm } from './windowForm';

/** `/schedules/windows/new` and `/schedules/windows/:id/edit` (admins). */
export function WindowEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.window(id ?? ''), queryFn: () => fetchWindow(id ?? ''), enabled: Boolean(id) });
  if (id && q.isPending) return <Loading what="the window" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  return <Editor key={id ?? 'new'} original={id ? q.data : undefined} />;
}

function Editor({ original }: { original?: Window }) {
  useTitle(original ? `Edit ${original.name}` : 'New maintenance window');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { form, set, errors, submitWith, leave } = useEditorForm(() => windowFormOf(original, browserZone()));
  const zones = useMemo(() => allZones(), []);
  const jobs = useQuery({ queryKey: ['jobs', 'list', { all: true }], queryFn: fetchJobs, enabled: !form.global });
  const groups = useQuery({ queryKey: ['groups', 'list'], queryFn: fetchGroups, enabled: !form.global });
  const targets = useQuery({ queryKey: ['targets', 'list', { all: true }], queryFn: fetchTargets, enabled: !form.global });
  const save = useMutation({
    mutationFn: (body: unknown) => (original ? api.put<Window>(windowPath(original.id), body) : api.post<Window>('/api/v1/maintenance-windows', body)),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.windows });
      leave('/schedules/windows');
    },
  });
  const apiErr: Record<string, string> = {};
  if (save.error instanceof ApiError) {
    for (const e of save.error.fieldErrors) {
      const top = /^\/([^/]+)(?:\/([^/]+))?/.exec(e.path);
      const k = top?.[1] === 'timing' ? (top[2] ?? 'timing') : (top?.[1] ?? '');
      apiErr[k] = e.message;
    }
  }
  const err = (k: string) => errors[k] ?? apiErr[k];
  const submit = submitWith(save, () => windowBodyOf(form));
  if (!can('admin')) return <ProblemAlert error={new Error('Only admins manage maintenance windows.')} title="Not allowed" />;
  return (
    <>
      <PageHeader title={original ? `Edit ${original.name}` : 'New maintenance window'} />
      <form className="form card sched-form" onSubmit={submit} noValidate>
        <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={err('name')} required maxLength={100} />
        <TextField label="Description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
        <CheckboxField label="Enabled" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
        <SelectField
          label="Repeats"
          value={form.kind}
          onChange={(e) => set({ kind: e.target.value as WindowForm['kind'] })}
          options={[
            { value: 'weekly', label: 'every week' },
            { value: 'once', label: 'once' },
          ]}
        />
        <SelectField
          label="Time zone"
          value={form.time_zone}
          onChange={(e) => set({ time_zone: e.target.value })}
          error={err('time_zone')}
          options={(zones.includes(form.time_zone) ? zones : [form.time_zone, ...zones]).map((z) => ({ value: z, label: z }))}
        />
        {form.kind === 'once' ? (
          <>
            <TextField label="Opens" type="datetime-local" value={form.start} onChange={(e) => set({ start: e.target.value })} error={err('start')} />
            <TextField label="Closes" type="datetime-local" value={form.end} onChange={(e) => set({ end: e.target.value })} error={err('end')} />
          </>
        ) : (
          <>
            <fieldset className={err('days') ? 'field field-error' : 'field'}>
              <legend>Days</legend>
              <div className="row">
                {ISO_DAYS.map((d, i) => (
                  <CheckboxField key={d} label={d} checked={form.days.includes(i + 1)} onChange={(e) => set({ days: toggled(form.days, i + 1, e.target.checked) })} />
                ))}
              </div>
              <FieldMessage error={err('days')} />
            </fieldset>
            <TextField label="Opens at" type="time" value={form.start_time} onChange={(e) => set({ start_time: e.target.value })} error={err('start_time')} />
            <TextField label="Stays open (minutes)" inputMode="numeric" value={form.duration_mins} onChange={(e) => set({ duration_mins: e.target.value })} error={err('duration_mins')} />
          </>
        )}
        <fieldset>
          <legend>Covers</legend>
          <CheckboxField label="Everything (global)" checked={form.global} onChange={(e) => set({ global: e.target.checked })} />
          {!form.global && (
            <>
              <PickList legend="Jobs" items={jobs.data?.items ?? []} chosen={form.jobs} onChange={(ids) => set({ jobs: ids })} look={PICK_LOOK} />
              <PickList legend="Target groups" items={groups.data?.items ?? []} chosen={form.groups} onChange={(ids) => set({ groups: ids })} look={PICK_LOOK} />
              <PickList legend="Targets" items={targets.data?.items ?? []} chosen={form.targets} onChange={(ids) => set({ targets: ids })} look={PICK_LOOK} />
            </>
          )}
          <FieldMessage error={err('scope')} />
        </fieldset>
        <SelectField
          label="A schedule fire inside it"
          value={form.fire_policy}
          onChange={(e) => set({ fire_policy: e.target.value as WindowForm['fire_policy'] })}
          options={[
            { value: 'skip', label: 'is skipped' },
            { value: 'defer', label: 'runs once when it closes' },
          ]}
        />
        <SelectField
          label="A run's targets inside it"
          value={form.target_policy}
          onChange={(e) => set({ target_policy: e.target.value as WindowForm['target_policy'] })}
          options={[
            { value: 'exclude', label: 'are left out' },
            { value: 'include', label: 'stay in the run' },
          ]}
        />
        <ProblemAlert error={save.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>
            {original ? 'Save' : 'Create window'}
          </Button>
          <Button onClick={() => void navigate('/schedules/windows')}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
