// The runs room's server state: calls, types and react-query keys.
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';

export type RunView = Schemas['RunView'];
export type StepView = Schemas['StepView'];
export type StepsView = Schemas['StepsView'];
export type RunsPage = Schemas['Page8'];

/** `RunView.trigger` (untyped in the OpenAPI document; `proto::commands::Trigger`). */
export interface Trigger {
  kind: string;
  actor: string;
  origin?: string | null;
  cause_run_id?: string | null;
}

export const triggerOf = (r: RunView): Trigger => {
  const t = r.trigger as Partial<Trigger> | null | undefined;
  return { kind: t?.kind ?? 'unknown', actor: t?.actor ?? '', origin: t?.origin ?? null, cause_run_id: t?.cause_run_id ?? null };
};

/** Statuses after which a run no longer changes. */
export const done = (status: string) => !['waiting', 'queued', 'running'].includes(status);

export const keys = {
  all: ['runs'] as const,
  page: (query: Record<string, string | number>) => ['runs', 'page', query] as const,
  newer: (query: Record<string, string | number>) => ['runs', 'newer', query] as const,
  one: (id: string) => ['runs', 'one', id] as const,
  steps: (id: string) => ['runs', 'steps', id] as const,
  jobs: ['runs', 'job-options'] as const,
  targets: ['runs', 'target-options'] as const,
};

const path = (id: string) => `/api/v1/runs/${encodeURIComponent(id)}`;

export const fetchRuns = (query: Record<string, string | number>, signal?: AbortSignal) => api.get<RunsPage>('/api/v1/runs', { query, signal });
export const fetchRun = (id: string) => api.get<RunView>(path(id));
/** The steps' status and timing; their output comes over the stream (`output=false`: reading every kept line again after each step event is what cost hundreds of MB on long runs). */
export const fetchSteps = (id: string) => api.get<StepsView>(`${path(id)}/steps`, { query: { output: 'false' } });
export const cancelRun = (id: string) => api.post<RunView>(`${path(id)}/cancel`);
export const rerun = (id: string, body: Schemas['RerunBody'], key: string) =>
  api.post<Schemas['Accepted']>(`${path(id)}/rerun`, body, { headers: { 'Idempotency-Key': key } });

/** Jobs and targets by name, for the filters and for naming rows. */
export interface Named {
  id: string;
  name: string;
}
export const fetchJobOptions = async (): Promise<Named[]> =>
  (await api.get<{ items: Named[] }>('/api/v1/jobs', { query: { limit: 500 } })).items.map((j) => ({ id: j.id, name: j.name }));
export const fetchTargetOptions = async (): Promise<Named[]> =>
  (await api.get<{ items: Named[] }>('/api/v1/targets', { query: { limit: 1000 } })).items.map((t) => ({ id: t.id, name: t.name }));

/** Names of the parameters a run shows as `***` (its secrets). */
export function secretNames(r: RunView): string[] {
  const p = r.parameters as Record<string, unknown> | null | undefined;
  return Object.entries(p ?? {})
    .filter(([, v]) => v === '***')
    .map(([k]) => k);
}
