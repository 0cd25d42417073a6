// A small typed client of the real API for the journeys' set-up and for
// "a direct API call is refused" checks: logs in through /api/v1/auth/login
// (the API's own sign-in, not the console's cookie) and sends a bearer token.
import type { Account } from './stack';

/** An answer: the status and the parsed JSON body (`null` when none). */
export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** Second factor for an account with MFA. */
export interface Factor {
  totp_code?: string;
  recovery_code?: string;
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class Api {
  private constructor(
    readonly base: string,
    readonly account: Account,
    private readonly token: string,
  ) {}

  /** Logs `account` in; fails with the API's answer when refused. */
  static async login(base: string, account: Account, factor: Factor = {}): Promise<Api> {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...account, ...factor }),
    });
    const body = (await res.json().catch(() => null)) as { access_token?: string } | null;
    if (res.status !== 200 || !body?.access_token) {
      throw new Error(`login of ${account.username} answered ${res.status}: ${JSON.stringify(body)}`);
    }
    return new Api(base, account, body.access_token);
  }

  /** Sends a request; never throws for a status (for refusal checks). */
  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: parseBody(text) as T };
  }

  /** Sends a request and expects a 2xx; its body. */
  async ok<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const a = await this.call<T>(method, path, body);
    if (a.status < 200 || a.status > 299) {
      throw new Error(`${method} ${path} as ${this.account.username} answered ${a.status}: ${JSON.stringify(a.body)}`);
    }
    return a.body;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.ok<T>('GET', path);
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.ok<T>('POST', path, body ?? {});
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.ok<T>('PUT', path, body);
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.ok<T>('DELETE', path);
  }

  /** Creates a user (needs an admin); its account. */
  async createUser(username: string, role: 'viewer' | 'operator' | 'admin'): Promise<Account> {
    const account = { username, password: `pw-${username}-Zx81q` };
    await this.post('/api/v1/users', { ...account, role });
    return account;
  }

  /** The same API as another account. */
  as(account: Account, factor: Factor = {}): Promise<Api> {
    return Api.login(this.base, account, factor);
  }
}
