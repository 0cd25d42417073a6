import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { Button } from '../../ui/Button';
import { CheckboxField, TextField } from '../../ui/Field';
import { ProblemAlert } from '../../ui/ProblemAlert';

type Step = { kind: 'idle' } | { kind: 'enrolling'; enrolment: Schemas['Enrolment'] } | { kind: 'codes'; codes: string[] };

/** Two-factor sign-in: enrol (secret and otpauth URI), confirm with a code,
 * recovery codes shown once; turn off with the password. */
export function MfaPanel({ enabled }: { enabled: boolean }) {
  const qc = useQueryClient();
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [code, setCode] = useState('');
  const [saved, setSaved] = useState(false);
  const [password, setPassword] = useState('');
  const refresh = () => qc.invalidateQueries({ queryKey: ['me'] });
  const enroll = useMutation({
    mutationFn: () => api.post<Schemas['Enrolment']>('/api/v1/me/mfa/enroll'),
    onSuccess: (enrolment) => {
      setCode('');
      setStep({ kind: 'enrolling', enrolment });
    },
  });
  const confirm = useMutation({
    mutationFn: (c: string) => api.post<Schemas['RecoveryCodes']>('/api/v1/me/mfa/confirm', { code: c }),
    onSuccess: (r) => {
      setSaved(false);
      setStep({ kind: 'codes', codes: r.recovery_codes });
    },
  });
  const disable = useMutation({
    mutationFn: (pw: string) => api.raw('DELETE', '/api/v1/me/mfa', { password: pw }),
    onSuccess: async () => {
      setPassword('');
      await refresh();
    },
  });
  const submitCode = (e: FormEvent) => {
    e.preventDefault();
    confirm.mutate(code.replace(/\s/g, ''));
  };
  const submitOff = (e: FormEvent) => {
    e.preventDefault();
    disable.mutate(password);
  };

  if (step.kind === 'codes')
    return (
      <div className="stack">
        <div className="alert alert-info" role="status">
          Two-factor sign-in is on. These recovery codes are shown only now: each signs you in once without the authenticator.
        </div>
        <ul className="recovery-codes" aria-label="Recovery codes">
          {step.codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <CheckboxField label="I saved my recovery codes" checked={saved} onChange={(e) => setSaved(e.target.checked)} />
        <Button
          variant="primary"
          disabled={!saved}
          onClick={() => {
            setStep({ kind: 'idle' });
            void refresh();
          }}
        >
          Done
        </Button>
      </div>
    );
  if (step.kind === 'enrolling')
    return (
      <form className="form stack" onSubmit={submitCode} noValidate>
        <p>Add this account to your authenticator app, then type the code it shows.</p>
        <dl className="facts">
          <dt>Secret (manual entry)</dt>
          <dd>
            <code className="mfa-secret">{step.enrolment.secret}</code>
          </dd>
          <dt>otpauth URI</dt>
          <dd>
            <code className="mfa-uri">{step.enrolment.otpauth_uri}</code>
          </dd>
        </dl>
        <TextField label="Code from the app" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} maxLength={8} />
        <ProblemAlert error={confirm.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={confirm.isPending} disabled={!code.trim()}>
            Turn on two-factor sign-in
          </Button>
          <Button onClick={() => setStep({ kind: 'idle' })}>Cancel</Button>
        </div>
      </form>
    );
  if (enabled)
    return (
      <form className="form stack" onSubmit={submitOff} noValidate>
        <p>
          <span className="badge status-succeeded">on</span> Signing in asks for a code from your authenticator.
        </p>
        <TextField label="Your password (to turn it off)" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        <ProblemAlert error={disable.error} />
        <div className="form-actions">
          <Button type="submit" variant="danger" busy={disable.isPending} disabled={!password}>
            Turn off two-factor sign-in
          </Button>
        </div>
      </form>
    );
  return (
    <div className="stack">
      <p>
        <span className="badge">off</span> Signing in asks only for your password.
      </p>
      <ProblemAlert error={enroll.error} />
      <div>
        <Button variant="primary" busy={enroll.isPending} onClick={() => enroll.mutate()}>
          Set up two-factor sign-in
        </Button>
      </div>
    </div>
  );
}
