import { useState, type FormEvent } from 'react';
import { needsSecondFactor } from '../../auth/console-auth';
import { useSession } from '../../auth/session';
import { Button } from '../../ui/Button';
import { TextField } from '../../ui/Field';
import { ProblemAlert } from '../../ui/ProblemAlert';

/** User name and password, then (when the account has MFA) a TOTP code or
 * a recovery code. */
export function SignInForm({ username: fixed, onDone }: { username?: string; onDone: () => void }) {
  const session = useSession();
  const [username, setUsername] = useState(fixed ?? '');
  const [password, setPassword] = useState('');
  const [factor, setFactor] = useState<'none' | 'totp' | 'recovery'>('none');
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

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
      {factor === 'totp' && (
        <TextField
          label="Authentication code"
          name="totp"
          inputMode="numeric"
          autoComplete="one-time-code"
          hint="The six digits your authenticator app shows."
          value={code}
          autoFocus
          onChange={(e) => setCode(e.target.value)}
        />
      )}
      {factor === 'recovery' && (
        <TextField
          label="Recovery code"
          name="recovery"
          autoComplete="off"
          hint="One of the codes you saved when you turned on MFA; each works once."
          value={code}
          autoFocus
          onChange={(e) => setCode(e.target.value)}
        />
      )}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={busy}>
          Sign in
        </Button>
        {factor === 'totp' && (
          <Button variant="ghost" onClick={() => { setFactor('recovery'); setCode(''); }}>
            Use a recovery code
          </Button>
        )}
        {factor === 'recovery' && (
          <Button variant="ghost" onClick={() => { setFactor('totp'); setCode(''); }}>
            Use an authentication code
          </Button>
        )}
      </div>
    </form>
  );
}
