// The admin room's server state: users, API tokens, security settings,
// the audit trail and the live workers.
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import type { AuditFilters } from './audit';

export type User = Schemas['UserView'];
export type NewUser = Schemas['NewUser'];
/** A change to a user: only the fields sent are changed. */
export type UserUpdate = Partial<Schemas['UserUpdate']>;
export type Token = Schemas['TokenView'];
export type NewToken = Schemas['NewToken'];
export type CreatedToken = Schemas['CreatedToken'];
export type Security = Schemas['SecuritySettings'];
export type AuditEntry = Schemas['AuditView'];
export type Worker = Schemas['WorkerView'];
export type Role = Schemas['Role'];

export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

/** Rows per page of the users and audit tables. */
export const USERS_PAGE = 100;
export const AUDIT_PAGE = 50;

export const keys = {
  users: ['admin', 'users'] as const,
  /** Every page of the list (not the users' own entries). */
  userLists: ['admin', 'users', 'list'] as const,
  userList: (offset: number) => ['admin', 'users', 'list', offset] as const,
  user: (id: string) => ['admin', 'users', 'one', id] as const,
  tokens: ['admin', 'tokens'] as const,
  security: ['admin', 'security'] as const,
  audit: (f: AuditFilters) => ['admin', 'audit', f] as const,
  workers: ['admin', 'workers'] as const,
};

export const userPath = (id: string) => `/api/v1/users/${encodeURIComponent(id)}`;

export const fetchUsers = (offset: number) => api.get<Schemas['Page']>('/api/v1/users', { query: { limit: USERS_PAGE, offset } });
export const fetchUser = (id: string) => api.get<User>(userPath(id));
export const fetchTokens = () => api.get<{ items: Token[] }>('/api/v1/api-tokens');
export const fetchSecurity = () => api.get<Security>('/api/v1/settings/security');
export const fetchWorkers = () => api.get<Schemas['WorkerList']>('/api/v1/workers');
export const fetchAudit = (f: AuditFilters) =>
  api.get<Schemas['Page2']>('/api/v1/audit', { query: { ...f, limit: AUDIT_PAGE, offset: f.offset ?? 0 } });

/** Ends every session of a user (admins; the API refuses others). */
export const revokeSessions = (userId: string) => api.post<void>('/api/v1/auth/revoke-all', { user_id: userId });
