// The targets room's server state.
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';

export type Target = Schemas['TargetView'];
export type TestOutcome = Schemas['TestOutcome'];

/** The list filters, as in the URL and `GET /api/v1/targets`. */
export const FILTERS = ['name', 'tag', 'os_type', 'group', 'pool'] as const;
export type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export const keys = {
  all: ['targets'] as const,
  list: (f: Filters) => ['targets', 'list', f] as const,
  one: (id: string) => ['targets', 'one', id] as const,
};

export const fetchTargets = (f: Filters) => api.get<Schemas['Page4']>('/api/v1/targets', { query: { ...f, limit: 500 } });
export const fetchTarget = (id: string) => api.get<Target>(`/api/v1/targets/${encodeURIComponent(id)}`);
export const fetchCredentials = () => api.get<Schemas['Page3']>('/api/v1/credentials', { query: { limit: 500 } });
export const fetchGroups = () => api.get<Schemas['Page5']>('/api/v1/target-groups', { query: { limit: 500 } });
