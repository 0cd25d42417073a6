import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { useSession } from '../auth/session';
import { Loading } from '../ui/Status';

/** The signed-in part: waits for the session, else goes to sign-in. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { state } = useSession();
  const location = useLocation();
  if (state.kind === 'loading') return <Loading what="your session" />;
  if (state.kind === 'signed-out') return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  return <>{children}</>;
}
