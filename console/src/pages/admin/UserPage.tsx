// /admin/users/:id: a user's role, state and details; a new password,
// unlocking, ending their sessions, and deleting them.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { useUser } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { CheckboxField, FieldMessage, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { fieldErrors } from './model';
import { SaveOrUndo } from './SaveOrUndo';
import { changesOf, userFormOf as formOf, type UserForm as Form } from './forms';
import { fetchUser, keys, revokeSessions, userPath, type User, type UserUpdate } from './queries';
import { RoleField } from './RoleField';

const FIELDS = ['display_name', 'email', 'role', 'timezone', 'active'] as const;

export function UserPage() {
  const { id = '' } = useParams();
  const q = useQuery({ queryKey: keys.user(id), queryFn: () => fetchUser(id) });
  useTitle(q.data?.username ?? 'User');
  if (q.isPending) return <Loading what="the user" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  return <UserEditor key={q.data.id} user={q.data} />;
}

function UserEditor({ user }: { user: User }) {
  const me = useUser();
  const self = me.id === user.id;
  const qc = useQueryClient();
  const navigate = useNavigate();
  // What was saved last: the form is dirty only when it differs from this.
  const [initial, setInitial] = useState(() => formOf(user));
  const [form, setForm] = useState(initial);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [password, setPassword] = useState('');
  const changes = changesOf(initial, form);
  const dirty = Object.keys(changes).length > 0;

  const refresh = async (u?: User) => {
    if (u) qc.setQueryData(keys.user(u.id), u);
    await qc.invalidateQueries({ queryKey: keys.userLists });
  };
  const save = useMutation({
    mutationFn: (up: UserUpdate) => api.put<User>(userPath(user.id), up),
    onSuccess: async (u) => {
      setInitial(formOf(u));
      setForm(formOf(u));
      await refresh(u);
    },
  });
  const setPw = useMutation({
    mutationFn: () => api.put<User>(userPath(user.id), { password }),
    onSuccess: async (u) => {
      setPassword('');
      await refresh(u);
    },
  });
  const unlock = useMutation({ mutationFn: () => api.put<User>(userPath(user.id), { unlock: true }), onSuccess: refresh });
  const revoke = useMutation({ mutationFn: () => revokeSessions(user.id) });
  const [deleted, setDeleted] = useState(false);
  const del = useMutation({
    mutationFn: () => api.del(userPath(user.id)),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.userLists });
      setDeleted(true);
    },
  });
  useUnsavedChanges(dirty && !save.isPending && !deleted);
  // Leave once the guard above knows there is nothing left to save.
  useEffect(() => {
    if (!deleted) return;
    void navigate('/admin/users', { replace: true });
  }, [deleted, navigate]);

  const errs = fieldErrors(save.error, FIELDS);
  const pwErr = fieldErrors(setPw.error, ['password'] as const).password;
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (dirty) save.mutate(changes);
  };
  const submitPassword = (e: FormEvent) => {
    e.preventDefault();
    if (password) setPw.mutate();
  };

  return (
    <>
      <PageHeader
        title={user.username}
        subtitle={
          <>
            {user.role}, {user.active ? 'active' : 'inactive'}, MFA {user.mfa_enabled ? 'on' : 'off'}; created <Time at={user.created_at} />
          </>
        }
        actions={<Link className="btn btn-secondary" to="/admin/users">All users</Link>}
      />
      <section className="card" aria-labelledby="user-details">
        <h2 id="user-details">Role and details</h2>
        <form className="admin-form" onSubmit={submit} noValidate aria-label={`Details of ${user.username}`}>
          <RoleField
            value={form.role}
            onChange={(role) => set({ role })}
            error={errs.role}
            hint={self ? 'This is you: lowering your own role takes effect at your next sign-in.' : undefined}
          />
          <CheckboxField label="Active (an inactive user cannot sign in; deactivating ends their sessions)" checked={form.active} onChange={(e) => set({ active: e.target.checked })} />
          <FieldMessage error={errs.active} />
          <TextField label="Display name" value={form.display_name} onChange={(e) => set({ display_name: e.target.value })} error={errs.display_name} />
          <TextField label="Email" type="email" value={form.email} onChange={(e) => set({ email: e.target.value })} error={errs.email} />
          <TextField label="Time zone" value={form.timezone} onChange={(e) => set({ timezone: e.target.value })} error={errs.timezone} />
          <SaveOrUndo save={save} dirty={dirty} label="Save changes" errorTitle="The user was not changed" onUndo={() => setForm(initial)} />
        </form>
      </section>

      <section className="card" aria-labelledby="user-password">
        <h2 id="user-password">Password</h2>
        <form className="admin-form" onSubmit={submitPassword} noValidate aria-label={`New password for ${user.username}`}>
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            hint="Setting it ends the user's sessions and unlocks the account."
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={pwErr}
          />
          <ProblemAlert error={setPw.error} title="The password was not set" />
          {setPw.isSuccess && <p role="status">Password set; their sessions have ended.</p>}
          <div className="form-actions">
            <Button type="submit" busy={setPw.isPending} disabled={!password}>
              Set password
            </Button>
          </div>
        </form>
      </section>

      <section className="card" aria-labelledby="user-sessions">
        <h2 id="user-sessions">Sessions and lockout</h2>
        <p className="muted">Ending the sessions signs the user out everywhere; their API tokens keep working until revoked.</p>
        <div className="admin-actions">
          <Button busy={revoke.isPending} onClick={() => revoke.mutate()}>
            Revoke all sessions
          </Button>
          <Button busy={unlock.isPending} onClick={() => unlock.mutate()}>
            Unlock after failed sign-ins
          </Button>
        </div>
        {revoke.isSuccess && <p role="status">Every session of {user.username} has ended.</p>}
        {unlock.isSuccess && <p role="status">Unlocked.</p>}
        <ProblemAlert error={revoke.error} title="The sessions were not revoked" />
        <ProblemAlert error={unlock.error} title="The user was not unlocked" />
      </section>

      {!self && (
        <section className="card" aria-labelledby="user-delete">
          <h2 id="user-delete">Delete</h2>
          <p className="muted">Deleting cannot be undone; deactivating (above) can.</p>
          <Button variant="danger" onClick={() => setConfirmDelete(true)}>
            Delete user
          </Button>
        </section>
      )}
      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${user.username}?`}
        onClose={() => setConfirmDelete(false)}
        onConfirm={() => del.mutate()}
        busy={del.isPending}
        error={del.error}
        errorTitle="The user was not deleted"
        confirmLabel={`Delete ${user.username}`}
        keepLabel="Keep the user"
      >
        <p>
          {user.username} will no longer be able to sign in. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
