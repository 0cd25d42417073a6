import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { SelectField, TextArea, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { createBody, emptyForm, formOf, TYPES, updateBody, type CredentialForm, type CredentialType, type FormErrors } from './model';
import { fetchOne, keys, type Credential } from './queries';

/** `/credentials/new` and `/credentials/:id/edit`. */
export function CredentialEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.one(id ?? ''), queryFn: () => fetchOne(id ?? ''), enabled: Boolean(id) });
  if (id && q.isPending) return <Loading what="the credential" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  return <Editor key={id ?? 'new'} original={id ? q.data : undefined} />;
}

function Editor({ original }: { original?: Credential }) {
  useTitle(original ? `Edit ${original.name}` : 'New credential');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [initial] = useState<CredentialForm>(() => (original ? formOf(original) : emptyForm()));
  const [form, setForm] = useState<CredentialForm>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const dirty = JSON.stringify(form) !== JSON.stringify(initial);
  const allowLeaving = useUnsavedChanges(dirty);
  const save = useMutation({
    mutationFn: (body: Schemas['NewCredential'] | Schemas['CredentialUpdate']) =>
      original
        ? api.put<Credential>(`/api/v1/credentials/${original.id}`, body)
        : api.post<Credential>('/api/v1/credentials', body),
    onSuccess: async (saved) => {
      await qc.invalidateQueries({ queryKey: keys.all });
      setForm(initial);
      allowLeaving();
      void navigate(`/credentials/${saved.id}`, { replace: true });
    },
  });

  const set = (patch: Partial<CredentialForm>) => setForm((f) => ({ ...f, ...patch }));
  const setValue = (name: string, v: string) => setForm((f) => ({ ...f, values: { ...f.values, [name]: v } }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = original ? updateBody(form, original) : createBody(form);
    setErrors(r.errors);
    if (r.body) save.mutate(r.body);
  };
  if (!can('admin')) return <ProblemAlert error={new Error('Only admins change credentials.')} title="Not allowed" />;
  const def = TYPES[form.type];
  return (
    <>
      <PageHeader title={original ? `Edit ${original.name}` : 'New credential'} />
      <form className="form card cred-form" onSubmit={submit} noValidate>
        <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={errors.name} required maxLength={100} />
        <TextField label="Description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
        <SelectField
          label="Type"
          value={form.type}
          disabled={Boolean(original)}
          hint={original ? 'The type stays; create a new credential for another type.' : undefined}
          onChange={(e) => {
            const t = e.target.value as CredentialType;
            setForm((f) => ({ ...emptyForm(t), name: f.name, description: f.description, hosts: f.hosts, pools: f.pools, tags: f.tags }));
          }}
          options={Object.entries(TYPES).map(([value, t]) => ({ value, label: t.label }))}
        />
        <fieldset className="cred-fields">
          <legend>{def.label}</legend>
          {original && (
            <p className="muted small cred-secret-note">
              Secrets are not shown. Leave them empty to keep the stored ones; type them all again to replace the content.
            </p>
          )}
          {def.fields.map((f) => {
            const common = {
              label: f.label + (f.required ? '' : ' (optional)'),
              value: form.values[f.name] ?? '',
              error: errors[`values.${f.name}`],
              hint: f.hint,
            };
            if (f.kind === 'select')
              return (
                <SelectField
                  key={f.name}
                  {...common}
                  onChange={(e) => setValue(f.name, e.target.value)}
                  options={(f.options ?? []).map((o) => ({ value: o, label: o || '—' }))}
                />
              );
            if (f.kind === 'textarea')
              return (
                <TextArea
                  key={f.name}
                  {...common}
                  spellCheck={false}
                  autoComplete="off"
                  rows={f.secret ? 6 : 4}
                  onChange={(e) => setValue(f.name, e.target.value)}
                />
              );
            return (
              <TextField
                key={f.name}
                {...common}
                type={f.secret ? 'password' : f.kind === 'number' ? 'number' : 'text'}
                autoComplete={f.secret ? 'new-password' : 'off'}
                onChange={(e) => setValue(f.name, e.target.value)}
              />
            );
          })}
        </fieldset>
        <fieldset className="cred-fields">
          <legend>Scope: where it may be used</legend>
          <TextArea
            label="Hosts"
            hint="One a line: exact names or addresses, *.example.com, 10.0.0.0/8, or * for any. Empty: usable nowhere."
            value={form.hosts}
            rows={3}
            onChange={(e) => set({ hosts: e.target.value })}
          />
          <TextField label="Pools (optional)" hint="Comma-separated; empty: any pool." value={form.pools} onChange={(e) => set({ pools: e.target.value })} />
          <TextField label="Tags (optional)" hint="Comma-separated; only targets with one of them." value={form.tags} onChange={(e) => set({ tags: e.target.value })} />
        </fieldset>
        <ProblemAlert error={save.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>
            {original ? 'Save' : 'Create credential'}
          </Button>
          <Button onClick={() => void navigate(original ? `/credentials/${original.id}` : '/credentials')}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
