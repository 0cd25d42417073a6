// The groups room's server state.
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';

export type Group = Schemas['GroupView'];
export type GroupSpec = Schemas['GroupSpec'];

export const keys = {
  all: ['groups'] as const,
  list: () => ['groups', 'list'] as const,
  one: (id: string) => ['groups', 'one', id] as const,
  members: (id: string) => ['groups', 'members', id] as const,
};

const path = (id: string) => `/api/v1/target-groups/${encodeURIComponent(id)}`;

export const fetchGroups = () => api.get<Schemas['Page5']>('/api/v1/target-groups', { query: { limit: 500 } });
export const fetchGroup = (id: string) => api.get<Group>(path(id));
export const fetchMembers = (id: string) => api.get<{ items: Schemas['TargetView'][] }>(`${path(id)}/targets`);
export const fetchAllTargets = () => api.get<Schemas['Page4']>('/api/v1/targets', { query: { limit: 1000 } });
export { path as groupPath };

/** A selector in words: "tags a, b; os linux". */
export function selectorText(s: Schemas['Selector'] | null | undefined): string {
  if (!s) return 'none';
  const parts = [s.tags?.length ? `tags ${s.tags.join(', ')}` : '', s.os_type ? `OS ${s.os_type}` : ''].filter(Boolean);
  return parts.length ? parts.join('; ') : 'every target';
}
