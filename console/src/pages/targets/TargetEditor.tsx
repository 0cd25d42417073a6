import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextArea, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { fetchCredentials, fetchTarget, keys, type Target } from './queries';
import { emptyTarget, fieldErrorsOf, OS_TYPES, targetFormOf, targetSpecOf, type FormErrors, type TargetForm, type TargetSpec } from './targetForm';

/** `/targets/new` and `/targets/:id/edit`. */
export function TargetEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.one(id ?? ''), queryFn: () => fetchTarget(id ?? ''), enabled: Boolean(id) });
  if (id && q.isPending) return <Loading what="the target" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  return <Editor key={id ?? 'new'} original={id ? q.data : undefined} />;
}

function Editor({ original }: { original?: Target }) {
  useTitle(original ? `Edit ${original.name}` : 'New target');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const creds = useQuery({ queryKey: ['credentials', 'list'], queryFn: fetchCredentials });
  const [initial] = useState<TargetForm>(() => (original ? targetFormOf(original) : emptyTarget()));
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const allowLeaving = useUnsavedChanges(JSON.stringify(form) !== JSON.stringify(initial));
  const save = useMutation({
    mutationFn: (spec: TargetSpec) =>
      original ? api.put<Target>(`/api/v1/targets/${original.id}`, spec) : api.post<Target>('/api/v1/targets', spec),
    onSuccess: async (t) => {
      await qc.invalidateQueries({ queryKey: keys.all });
      allowLeaving();
      void navigate(`/targets/${t.id}`, { replace: true });
    },
    onError: (e) => {
      if (e instanceof ApiError) setErrors(fieldErrorsOf(e.problem.errors));
    },
  });
  const set = <K extends keyof TargetForm>(k: K, v: TargetForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const credOptions = (types: string[]) => [
    { value: '', label: '— pick a credential —' },
    ...(creds.data?.items ?? []).filter((c) => types.includes(c.type)).map((c) => ({ value: c.id, label: c.name })),
  ];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = targetSpecOf(form);
    setErrors(r.errors);
    if (r.spec) save.mutate(r.spec);
  };
  if (!can('operator')) return <ProblemAlert error={new Error('Viewers cannot change targets.')} title="Not allowed" />;
  return (
    <>
      <PageHeader title={original ? `Edit ${original.name}` : 'New target'} />
      <form className="form card target-form" onSubmit={submit} noValidate>
        <TextField label="Name" value={form.name} onChange={(e) => set('name', e.target.value)} error={errors.name} required />
        <TextField label="Host name or address" value={form.hostname} onChange={(e) => set('hostname', e.target.value)} error={errors.hostname} required />
        <SelectField label="OS type" value={form.os_type} onChange={(e) => set('os_type', e.target.value as TargetForm['os_type'])} options={OS_TYPES.map((o) => ({ value: o, label: o.replace('_', ' ') }))} />
        <TextField label="Pool" value={form.pool} onChange={(e) => set('pool', e.target.value)} error={errors.pool} />
        <TextField label="Tags" hint="Comma-separated, e.g. env=prod, web" value={form.tags} onChange={(e) => set('tags', e.target.value)} error={errors.tags} />
        <CheckboxField label="Enabled" checked={form.enabled} onChange={(e) => set('enabled', e.target.checked)} />
        <ProblemAlert error={creds.error} title="Credentials could not be listed" />
        <fieldset>
          <legend>SSH</legend>
          <CheckboxField label="Reach it by SSH" checked={form.ssh} onChange={(e) => set('ssh', e.target.checked)} />
          {form.ssh && (
            <>
              <SelectField label="SSH credential" value={form.ssh_credential} onChange={(e) => set('ssh_credential', e.target.value)} error={errors.ssh_credential} options={credOptions(['ssh_password', 'ssh_key'])} />
              <TextField label="SSH port" type="number" value={form.ssh_port} onChange={(e) => set('ssh_port', e.target.value)} error={errors.ssh_port} />
              <SelectField
                label="Host key policy"
                value={form.ssh_policy}
                onChange={(e) => set('ssh_policy', e.target.value as TargetForm['ssh_policy'])}
                hint="strict: an unknown key waits for an admin's approval; accept-new pins the first key seen."
                options={[
                  { value: 'strict', label: 'strict' },
                  { value: 'accept-new', label: 'accept-new' },
                ]}
              />
              <TextField label="Connect timeout (seconds)" type="number" value={form.ssh_timeout} onChange={(e) => set('ssh_timeout', e.target.value)} error={errors.ssh_timeout} />
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>WinRM</legend>
          <CheckboxField label="Reach it by WinRM" checked={form.winrm} onChange={(e) => set('winrm', e.target.checked)} />
          {form.winrm && (
            <>
              <SelectField label="WinRM credential" value={form.winrm_credential} onChange={(e) => set('winrm_credential', e.target.value)} error={errors.winrm_credential} options={credOptions(['winrm'])} />
              <SelectField
                label="WinRM scheme"
                value={form.winrm_scheme}
                onChange={(e) => set('winrm_scheme', e.target.value as TargetForm['winrm_scheme'])}
                options={[
                  { value: 'https', label: 'https (5986)' },
                  { value: 'http', label: 'http (5985)' },
                ]}
              />
              <TextField label="WinRM port (optional)" type="number" value={form.winrm_port} onChange={(e) => set('winrm_port', e.target.value)} error={errors.winrm_port} />
              <CheckboxField label="Verify the WinRM certificate" checked={form.winrm_verify} onChange={(e) => set('winrm_verify', e.target.checked)} />
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>HTTP</legend>
          <CheckboxField label="Reach it by HTTP" checked={form.http} onChange={(e) => set('http', e.target.checked)} />
          {form.http && (
            <>
              <TextField label="Base URL" value={form.http_base_url} onChange={(e) => set('http_base_url', e.target.value)} error={errors.http_base_url} />
              <SelectField label="HTTP credential (optional)" value={form.http_credential} onChange={(e) => set('http_credential', e.target.value)} options={credOptions(['http_auth'])} />
              <CheckboxField label="Verify the HTTP certificate" checked={form.http_verify} onChange={(e) => set('http_verify', e.target.checked)} />
            </>
          )}
        </fieldset>
        <TextArea label="Metadata (JSON object, optional)" rows={3} value={form.metadata} onChange={(e) => set('metadata', e.target.value)} error={errors.metadata} />
        <ProblemAlert error={save.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>{original ? 'Save' : 'Create target'}</Button>
          <Button onClick={() => void navigate(original ? `/targets/${original.id}` : '/targets')}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
