// Pure logic of the admin room: which field an API error belongs to, a
// token's state, the roles a user may grant, and workers by pool.
import { ApiError } from '../../api/errors';
import type { Role, Token, Worker } from './queries';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The roles a user of `mine` may give a token: theirs and below. */
export function grantable(mine: Role, all: Role[]): Role[] {
  return all.filter((r) => RANK[r] <= RANK[mine]);
}

/**
 * The messages of `error` by form field. An error whose `path` is
 * `/<field>` goes to that field; one without a path (the API's checks of
 * users answer "username must be …", "password is too short") goes to the
 * field its sentence starts with. Everything else stays for the alert.
 */
export function fieldErrors<F extends string>(error: unknown, fields: readonly F[]): Partial<Record<F, string>> {
  if (!(error instanceof ApiError)) return {};
  const out: Partial<Record<F, string>> = {};
  const known = new Set<string>(fields);
  const place = (field: string | undefined, message: string) => {
    if (field && known.has(field) && !out[field as F]) out[field as F] = message;
  };
  const byWord = (message: string) => /^([a-z_]+)\b/.exec(message)?.[1];
  for (const e of error.fieldErrors) {
    const top = e.path.replace(/^\//, '').split('/')[0];
    place(top || byWord(e.message), e.message);
  }
  if (error.problem.detail) place(byWord(error.problem.detail), error.problem.detail);
  return out;
}

export type TokenState = 'active' | 'expired' | 'revoked';

/** Whether a token still works at `now`. */
export function tokenState(t: Pick<Token, 'revoked_at' | 'expires_at'>, now = Date.now()): TokenState {
  if (t.revoked_at) return 'revoked';
  if (t.expires_at && Date.parse(t.expires_at) <= now) return 'expired';
  return 'active';
}

/** Lifetimes offered for a new token, in days (`null`: the API's default). */
export const LIFETIMES: { value: string; label: string; days: number | null; never?: boolean }[] = [
  { value: 'default', label: 'Default (set by the installation, 90 days unless changed)', days: null },
  { value: '7', label: '7 days', days: 7 },
  { value: '30', label: '30 days', days: 30 },
  { value: '90', label: '90 days', days: 90 },
  { value: '365', label: '1 year', days: 365 },
  { value: 'custom', label: 'Custom number of days', days: null },
  { value: 'never', label: 'Never expires (admins only)', days: null, never: true },
];

/** The body of `POST /api/v1/api-tokens` from the form's values. */
export function newTokenBody(name: string, role: Role, lifetime: string, customDays: string) {
  const choice = LIFETIMES.find((l) => l.value === lifetime);
  const body: { name: string; role: Role; expires_in_days?: number; never_expires?: boolean } = { name: name.trim(), role };
  if (choice?.never) body.never_expires = true;
  else if (lifetime === 'custom') body.expires_in_days = Number(customDays);
  else if (choice?.days) body.expires_in_days = choice.days;
  return body;
}

export type WorkerState = 'live' | 'draining' | 'late';

/** A worker is late once it missed a heartbeat and a half (the API drops it after three). */
export function workerState(w: Pick<Worker, 'draining' | 'last_heartbeat_at' | 'heartbeat_secs'>, now = Date.now()): WorkerState {
  if (w.draining) return 'draining';
  const age = (now - Date.parse(w.last_heartbeat_at)) / 1000;
  return age > Math.max(1, w.heartbeat_secs) * 1.5 ? 'late' : 'live';
}

export interface Pool {
  name: string;
  workers: Worker[];
  /** Dispatches running now, and at most, over the pool's workers that take work. */
  inFlight: number;
  capacity: number;
}

/** Workers grouped by pool (pools by name, workers by id), with each pool's load. */
export function byPool(workers: Worker[]): Pool[] {
  const pools = new Map<string, Worker[]>();
  for (const w of workers) pools.set(w.pool, [...(pools.get(w.pool) ?? []), w]);
  return [...pools.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, ws]) => {
      const sorted = [...ws].sort((a, b) => a.id.localeCompare(b.id));
      const taking = sorted.filter((w) => !w.draining);
      return {
        name,
        workers: sorted,
        inFlight: sorted.reduce((n, w) => n + w.in_flight, 0),
        capacity: taking.reduce((n, w) => n + w.concurrency, 0),
      };
    });
}

/** A load as a share of capacity, 0–100 (0 when there is no capacity). */
export function loadPercent(inFlight: number, capacity: number): number {
  if (capacity <= 0) return 0;
  return Math.min(100, Math.round((inFlight / capacity) * 100));
}
