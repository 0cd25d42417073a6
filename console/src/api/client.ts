// The one way the console talks to the API: bearer token from memory,
// problem+json errors as [`ApiError`], one refresh-and-retry on 401.
import { ApiError, problemOf } from './errors';

type Query = Record<string, string | number | boolean | undefined | null | string[]>;

export interface RequestOptions {
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send this text as is (e.g. YAML) instead of JSON. */
  rawBody?: { text: string; contentType: string };
}

/** What the client needs from the session: a token, and a way to renew it. */
export interface TokenSource {
  token(): string | null;
  /** Renews the access token; resolves false when the session is over. */
  renew(): Promise<boolean>;
}

let source: TokenSource = { token: () => null, renew: async () => false };

/** Installed once by the session provider. */
export function setTokenSource(s: TokenSource): void {
  source = s;
}

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((item) => params.append(k, item));
    else params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function send(method: string, path: string, body: unknown, opts: RequestOptions): Promise<Response> {
  const go = () => {
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    const token = source.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    let payload: BodyInit | undefined;
    if (opts.rawBody) {
      headers['Content-Type'] = opts.rawBody.contentType;
      payload = opts.rawBody.text;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    return fetch(url(path, opts.query), { method, headers, body: payload, signal: opts.signal, credentials: 'same-origin' });
  };
  let res = await go();
  if (res.status === 401 && source.token() !== null && (await source.renew())) {
    res = await go();
  }
  return res;
}

async function json<T>(method: string, path: string, body: unknown, opts: RequestOptions = {}): Promise<T> {
  const res = await send(method, path, body, opts);
  if (!res.ok) throw new ApiError(await problemOf(res));
  if (res.status === 204 || res.status === 205) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Typed calls; `T` comes from `Schemas` in ./types. */
export const api = {
  get: <T>(path: string, opts?: RequestOptions) => json<T>('GET', path, undefined, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => json<T>('POST', path, body, opts),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => json<T>('PUT', path, body, opts),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => json<T>('PATCH', path, body, opts),
  del: <T = void>(path: string, opts?: RequestOptions) => json<T>('DELETE', path, undefined, opts),
  /** The raw response (exports, text bodies, streams); errors still throw. */
  async raw(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<Response> {
    const res = await send(method, path, body, opts);
    if (!res.ok) throw new ApiError(await problemOf(res));
    return res;
  },
};
