import { Navigate, useLocation, useNavigate } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { SignInForm } from './SignInForm';

export default function LoginPage() {
  useTitle('Sign in');
  const session = useSession();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/';
  if (session.state.kind === 'signed-in') return <Navigate to={from} replace />;
  return (
    <main className="login" id="main">
      <div className="login-card">
        <h1>Sign in to OpsConductor</h1>
        <SignInForm onDone={() => navigate(from, { replace: true })} />
      </div>
    </main>
  );
}
