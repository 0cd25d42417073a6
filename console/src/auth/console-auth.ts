// The console's sign-in endpoints: the refresh token lives in an HttpOnly
// cookie the API sets (never readable here); the access token only in memory.
import { ApiError, problemOf } from '../api/errors';

const HEADER = { 'X-OpsConductor-Console': '1' };

export interface AccessToken {
  access_token: string;
  expires_in: number;
}

export interface Credentials {
  username: string;
  password: string;
  totp_code?: string;
  recovery_code?: string;
}

/** Whether a failed sign-in asks for a second factor. */
export function needsSecondFactor(e: unknown): boolean {
  return e instanceof ApiError && (e.problem.type ?? '').endsWith('/mfa-required');
}

async function post(path: string, body?: unknown): Promise<Response> {
  return fetch(`/api/v1/auth/console/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: body === undefined ? HEADER : { ...HEADER, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function signIn(c: Credentials): Promise<AccessToken> {
  const res = await post('login', c);
  if (!res.ok) throw new ApiError(await problemOf(res));
  return (await res.json()) as AccessToken;
}

/** A new access token from the cookie; `null` when there is no session.
 * Serialised across tabs: two tabs rotating one cookie at once would look
 * like token reuse and end the session. */
export async function refresh(): Promise<AccessToken | null> {
  const run = async () => {
    const res = await post('refresh');
    if (res.status === 401 || res.status === 403) {
      // Read the answer to its end, so the request completes.
      await res.text().catch(() => '');
      return null;
    }
    if (!res.ok) throw new ApiError(await problemOf(res));
    return (await res.json()) as AccessToken;
  };
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request('opsconductor-refresh', run);
  }
  return run();
}

export async function signOut(): Promise<void> {
  await post('logout').catch(() => undefined);
}
