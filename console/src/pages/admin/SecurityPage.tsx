// /admin/security: the security settings an admin controls.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { CheckboxField, FieldMessage } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { fieldErrors } from './model';
import { SaveOrUndo } from './SaveOrUndo';
import { fetchSecurity, keys, type Security } from './queries';

const FIELDS = ['require_mfa_for_admins', 'self_registration'] as const;

/** Each setting: its label and what it does (from the API's description). */
const SETTINGS: { key: (typeof FIELDS)[number]; label: string; hint: string }[] = [
  {
    key: 'require_mfa_for_admins',
    label: 'Admins must sign in with a second factor',
    hint: 'Until an admin enrols a second factor, they can reach only their own profile and MFA enrolment.',
  },
  {
    key: 'self_registration',
    label: 'Anyone may register as a viewer',
    hint: 'Opens POST /api/v1/auth/register: new accounts get the viewer role.',
  },
];

export function SecurityPage() {
  useTitle('Security settings');
  const q = useQuery({ queryKey: keys.security, queryFn: fetchSecurity });
  return (
    <>
      <PageHeader title="Security settings" subtitle="Who may register, and what admins need to sign in." />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="the security settings" />}
      {q.data && <SecurityForm saved={q.data} />}
    </>
  );
}

/** One switch with its explanation (read out with it) and the API's error. */
function Setting({ label, hint, error, checked, onChange }: { label: string; hint: string; error?: string; checked: boolean; onChange: (on: boolean) => void }) {
  const id = useId();
  return (
    <div className="field setting">
      <CheckboxField label={label} checked={checked} onChange={(e) => onChange(e.target.checked)} aria-describedby={`${id}-hint`} aria-invalid={error ? true : undefined} />
      <div className="field-hint" id={`${id}-hint`}>
        {hint}
      </div>
      <FieldMessage error={error} />
    </div>
  );
}

function SecurityForm({ saved }: { saved: Security }) {
  const qc = useQueryClient();
  const [initial, setInitial] = useState(saved);
  const [form, setForm] = useState(saved);
  const dirty = FIELDS.some((k) => form[k] !== initial[k]);
  const save = useMutation({
    mutationFn: (s: Security) => api.put<Security>('/api/v1/settings/security', s),
    onSuccess: (s) => {
      setInitial(s);
      setForm(s);
      qc.setQueryData(keys.security, s);
    },
  });
  useUnsavedChanges(dirty && !save.isPending);
  const errs = fieldErrors(save.error, FIELDS);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (dirty) save.mutate(form);
  };
  return (
    <form className="card admin-form" onSubmit={submit} noValidate aria-label="Security settings">
      {SETTINGS.map((s) => (
        <Setting key={s.key} label={s.label} hint={s.hint} error={errs[s.key]} checked={form[s.key]} onChange={(on) => setForm((f) => ({ ...f, [s.key]: on }))} />
      ))}
      <SaveOrUndo save={save} dirty={dirty} label="Save settings" errorTitle="The settings were not saved" onUndo={() => setForm(initial)} />
    </form>
  );
}
