import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Route, Routes } from 'react-router';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { NotFound } from '../NotFound';
import { MfaPanel } from './MfaPanel';
import './profile.css';

type Me = Schemas['UserView'];

function Details({ me }: { me: Me }) {
  const qc = useQueryClient();
  const [form, setForm] = useState({ display_name: me.display_name, email: me.email ?? '', timezone: me.timezone });
  const save = useMutation({
    mutationFn: () =>
      api.put<Me>('/api/v1/me', { display_name: form.display_name.trim(), email: form.email.trim() || null, timezone: form.timezone.trim() }),
    onSuccess: (m) => qc.setQueryData(['me'], m),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="form" onSubmit={submit} noValidate>
      <p className="muted">
        Signed in as <strong>{me.username}</strong>, role {me.role}.
      </p>
      <TextField label="Display name" value={form.display_name} onChange={(e) => setForm({ ...form, display_name: e.target.value })} />
      <TextField label="Email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
      <TextField label="Time zone" hint="IANA name, e.g. Europe/Berlin (used for quiet hours)." value={form.timezone} onChange={(e) => setForm({ ...form, timezone: e.target.value })} />
      <ProblemAlert error={save.error} />
      {save.isSuccess && <p role="status">Saved.</p>}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending}>Save profile</Button>
      </div>
    </form>
  );
}

function Password() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [mismatch, setMismatch] = useState<string>();
  const save = useMutation({
    mutationFn: () => api.put<Me>('/api/v1/me', { current_password: current, new_password: next }),
    onSuccess: () => {
      setCurrent('');
      setNext('');
      setAgain('');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (next !== again) return setMismatch('The two new passwords differ');
    setMismatch(undefined);
    save.mutate();
  };
  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField label="Current password" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
      <TextField label="New password" type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      <TextField label="New password again" type="password" autoComplete="new-password" value={again} onChange={(e) => setAgain(e.target.value)} error={mismatch} />
      <ProblemAlert error={save.error} />
      {save.isSuccess && <p role="status">Password changed; your other sessions have ended.</p>}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending} disabled={!current || !next}>Change password</Button>
      </div>
    </form>
  );
}

function Profile() {
  useTitle('Profile');
  const q = useQuery({ queryKey: ['me'], queryFn: () => api.get<Me>('/api/v1/me') });
  if (q.isPending) return <Loading what="your profile" />;
  if (q.error) return <ProblemAlert error={q.error} />;
  return (
    <>
      <PageHeader title="Profile" subtitle={q.data.username} />
      <div className="grid profile">
        <section className="card" aria-labelledby="p-details">
          <h2 id="p-details">Your details</h2>
          <Details me={q.data} />
        </section>
        <section className="card" aria-labelledby="p-password">
          <h2 id="p-password">Password</h2>
          <Password />
        </section>
        <section className="card" aria-labelledby="p-mfa">
          <h2 id="p-mfa">Two-factor sign-in</h2>
          <MfaPanel enabled={q.data.mfa_enabled} />
        </section>
      </div>
    </>
  );
}

/** The profile room: your details, password and second factor. */
export default function ProfileRoom() {
  return (
    <Routes>
      <Route index element={<Profile />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
