// /admin/users/new: a user name, a password and a role (the rest optional).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../../api/client';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { fieldErrors } from './model';
import { EMPTY_USER as EMPTY, newUserBody, type NewUserForm } from './forms';
import { keys, type NewUser, type User } from './queries';
import { RoleField } from './RoleField';

const FIELDS = ['username', 'password', 'role', 'display_name', 'email', 'timezone'] as const;

export function NewUserPage() {
  useTitle('New user');
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form, setForm] = useState(EMPTY);
  const [missing, setMissing] = useState<Partial<Record<'username' | 'password', string>>>({});
  // Set once the user exists: the form is no longer "unsaved", then we leave.
  const [done, setDone] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: NewUser) => api.post<User>('/api/v1/users', body),
    onSuccess: async (u) => {
      await qc.invalidateQueries({ queryKey: keys.userLists });
      setDone(u.username);
    },
  });
  useUnsavedChanges(JSON.stringify(form) !== JSON.stringify(EMPTY) && done === null);
  useEffect(() => {
    if (done !== null) void navigate('/admin/users', { state: { created: done } });
  }, [done, navigate]);
  const errs = { ...fieldErrors(create.error, FIELDS), ...missing };
  const set = (patch: Partial<NewUserForm>) => setForm((f) => ({ ...f, ...patch }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const m: typeof missing = {};
    if (!form.username.trim()) m.username = 'A user name is required';
    if (!form.password) m.password = 'A password is required';
    setMissing(m);
    if (Object.keys(m).length === 0) create.mutate(newUserBody(form));
  };
  return (
    <>
      <PageHeader title="New user" />
      <form className="card admin-form" onSubmit={submit} noValidate aria-label="New user">
        <TextField
          label="User name"
          hint="3–64 of a–z, 0–9, '.', '_', '-'; stored in lower case."
          autoComplete="off"
          value={form.username}
          onChange={(e) => set({ username: e.target.value })}
          error={errs.username}
          required
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="At least 12 characters, not a common password."
          value={form.password}
          onChange={(e) => set({ password: e.target.value })}
          error={errs.password}
          required
        />
        <RoleField
          value={form.role}
          onChange={(role) => set({ role })}
          error={errs.role}
          hint="Viewers read; operators run and edit jobs; admins also manage users, credentials and settings."
        />
        <TextField label="Display name" hint="Defaults to the user name." value={form.display_name} onChange={(e) => set({ display_name: e.target.value })} error={errs.display_name} />
        <TextField label="Email" type="email" value={form.email} onChange={(e) => set({ email: e.target.value })} error={errs.email} />
        <TextField label="Time zone" hint="IANA name, e.g. Europe/Berlin (default UTC)." value={form.timezone} onChange={(e) => set({ timezone: e.target.value })} error={errs.timezone} />
        <ProblemAlert error={create.error} title="The user was not created" />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create user
          </Button>
          <Button onClick={() => void navigate('/admin/users')}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
