// The credentials room's server state.
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';

export type Credential = Schemas['CredentialView'];

/** A credential's users, from `GET /api/v1/credentials/{id}/usage`. */
export interface CredentialUsage {
  credential_id: string;
  targets: { id: string; name: string }[];
  jobs: { id: string; name: string }[];
}

export const keys = {
  all: ['credentials'] as const,
  list: () => ['credentials', 'list'] as const,
  one: (id: string) => ['credentials', 'one', id] as const,
  usage: (id: string) => ['credentials', 'usage', id] as const,
};

export const fetchList = () => api.get<Schemas['Page3']>('/api/v1/credentials', { query: { limit: 500 } });
export const fetchOne = (id: string) => api.get<Credential>(`/api/v1/credentials/${encodeURIComponent(id)}`);
export const fetchUsage = (id: string) => api.get<CredentialUsage>(`/api/v1/credentials/${encodeURIComponent(id)}/usage`);
