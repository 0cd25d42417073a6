// The signed-in user: who they are, their role, and the access token kept in
// memory. An expired session opens a sign-in dialog over the current page,
// so nothing the user typed is lost.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, setTokenSource } from '../api/client';
import * as auth from './console-auth';

export type Role = 'viewer' | 'operator' | 'admin';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface User {
  id: string;
  username: string;
  role: Role;
}

interface Verify {
  sub: string;
  username: string;
  role: Role;
}

export type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'signed-in'; user: User; expired: boolean };

export interface Session {
  state: SessionState;
  user: User | null;
  /** Whether the user's role is at least `role` (the API still decides). */
  can(role: Role): boolean;
  signIn(c: auth.Credentials): Promise<void>;
  signOut(): Promise<void>;
}

const Ctx = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The signed-in user (only inside the signed-in shell). */
export function useUser(): User {
  const u = useSession().user;
  if (!u) throw new Error('useUser without a user');
  return u;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const token = useRef<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const renewing = useRef<Promise<boolean> | null>(null);

  const schedule = useCallback((expiresIn: number, renew: () => Promise<boolean>) => {
    window.clearTimeout(timer.current);
    const ms = Math.max(5, expiresIn - 60) * 1000;
    timer.current = window.setTimeout(() => void renew(), ms);
  }, []);

  const renew = useCallback((): Promise<boolean> => {
    if (renewing.current) return renewing.current;
    const p = (async () => {
      try {
        const t = await auth.refresh();
        if (!t) {
          token.current = null;
          setState((s) => (s.kind === 'signed-in' ? { ...s, expired: true } : { kind: 'signed-out' }));
          return false;
        }
        token.current = t.access_token;
        schedule(t.expires_in, renew);
        return true;
      } catch {
        return false;
      } finally {
        renewing.current = null;
      }
    })();
    renewing.current = p;
    return p;
  }, [schedule]);

  const adopt = useCallback(
    async (t: auth.AccessToken) => {
      token.current = t.access_token;
      schedule(t.expires_in, renew);
      const v = await api.get<Verify>('/api/v1/auth/verify');
      const user: User = { id: v.sub, username: v.username, role: v.role };
      setState((s) => {
        // Re-signing in after expiry as someone else starts afresh.
        if (s.kind === 'signed-in' && s.expired && s.user.id !== user.id) window.location.assign('/');
        return { kind: 'signed-in', user, expired: false };
      });
    },
    [renew, schedule],
  );

  useEffect(() => {
    setTokenSource({ token: () => token.current, renew });
    let live = true;
    void auth
      .refresh()
      .then((t) => (t && live ? adopt(t) : setState({ kind: 'signed-out' })))
      .catch(() => setState({ kind: 'signed-out' }));
    return () => {
      live = false;
      window.clearTimeout(timer.current);
    };
  }, [adopt, renew]);

  const session = useMemo<Session>(() => {
    const user = state.kind === 'signed-in' ? state.user : null;
    return {
      state,
      user,
      can: (role) => (user ? RANK[user.role] >= RANK[role] : false),
      signIn: async (c) => adopt(await auth.signIn(c)),
      signOut: async () => {
        window.clearTimeout(timer.current);
        await auth.signOut();
        token.current = null;
        setState({ kind: 'signed-out' });
      },
    };
  }, [state, adopt]);

  return <Ctx.Provider value={session}>{children}</Ctx.Provider>;
}
