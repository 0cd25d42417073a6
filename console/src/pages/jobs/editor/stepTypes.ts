// The step-type catalogue (`GET /api/v1/step-types`): the palette, the
// forms and the YAML completion all read it.
import { useQuery } from '@tanstack/react-query';
import { api } from '../../../api/client';

/** One step type as the API describes it. */
export interface StepType {
  name: string;
  family: string;
  description: string;
  idempotent: boolean;
  needs_target: boolean;
  with_schema: Record<string, unknown>;
}

/** The catalogue, cached for the session (it changes only with the server). */
export function useStepTypes() {
  return useQuery({
    queryKey: ['step-types'],
    queryFn: () => api.get<{ items: StepType[] }>('/api/v1/step-types').then((r) => r.items),
    staleTime: Infinity,
    retry: false,
  });
}

/** Types by family, families and types in name order. */
export function byFamily(types: StepType[]): [string, StepType[]][] {
  const groups = new Map<string, StepType[]>();
  for (const t of types) groups.set(t.family, [...(groups.get(t.family) ?? []), t]);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([f, ts]) => [f, ts.slice().sort((a, b) => a.name.localeCompare(b.name))]);
}
