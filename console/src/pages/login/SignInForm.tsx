import { useState, type FormEvent } from 'react';
import { needsSecondFactor } from '../../auth/console-auth';
import { useSession } from '../../auth/session';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ProblemAlert } from '../../ui/ProblemAlert';

type Factor = 'totp' | 'recovery';

/** The second factor's field, and the way to the other kind of code. */
const SECOND: Record<Factor, { label: string; name: string; inputMode?: 'numeric'; autoComplete: string; hint: string; other: Factor; switchLabel: string }> = {
  totp: {
    label: 'Authentication code',
    name: 'totp',
    inputMode: 'numeric',
    autoComplete: 'one-time-code',
    hint: 'The six digits your authenticator app shows.',
    other: 'recovery',
    switchLabel: 'Use a recovery code',
  },
  recovery: {
    label: 'Recovery code',
    name: 'recovery',
    autoComplete: 'off',
    hint: 'One of the codes you saved when you turned on MFA; each works once.',
    other: 'totp',
    switchLabel: 'Use an authentication code',
  },
};

/** User name and password, then (when the account has MFA) a TOTP code or
 * a recovery code. */
export function SignInForm({ username: fixed, onDone }: { username?: string; onDone: () => void }) {
  const session = useSession();
  const [username, setUsername] = useState(fixed ?? '');
  const [password, setPassword] = useState('');
  const [factor, setFactor] = useState<'none' | Factor>('none');
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const second = factor === 'none' ? null : SECOND[factor];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.signIn({
        username,
        password,
        totp_code: factor === 'totp' ? code.replace(/\s/g, '') : undefined,
        recovery_code: factor === 'recovery' ? code.trim() : undefined,
      });
      onDone();
    } catch (err) {
      if (needsSecondFactor(err) && factor === 'none') setFactor('totp');
      else setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="form" noValidate>
      <ProblemAlert error={error} title="Not signed in" />
      <TextField
        label="Username"
        name="username"
        autoComplete="username"
        value={username}
        readOnly={fixed !== undefined}
        required
        onChange={(e) => setUsername(e.target.value)}
      />
      <TextField
        label="Password"
        name="password"
        type="password"
        autoComplete="current-password"
        value={password}
        required
        onChange={(e) => setPassword(e.target.value)}
      />
      {second && (
        <TextField
          key={factor}
          label={second.label}
          name={second.name}
          inputMode={second.inputMode}
          autoComplete={second.autoComplete}
          hint={second.hint}
          value={code}
          autoFocus
          onChange={(e) => setCode(e.target.value)}
        />
      )}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy}>
          Sign in
        </Button>
        {second && (
          <Button key={factor} variant="ghost" onClick={() => { setFactor(second.other); setCode(''); }}>
            {second.switchLabel}
          </Button>
        )}
      </div>
    </form>
  );
}
