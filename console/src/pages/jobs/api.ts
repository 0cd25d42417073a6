// The jobs room's calls and query keys. Bodies of endpoints that the
// committed OpenAPI document does not describe yet (list items with tags
// and last run, bulk, preview) are typed here from the api's handlers.
import { api } from '../../api/client';
import type { Page, Schemas } from '../../api/types';

export type JobView = Schemas['JobView'];
export type JobDefinition = Schemas['JobDefinition'];
export type VersionSummary = Schemas['VersionSummary'];
export type VersionView = Schemas['VersionView'];
export type RunView = Schemas['RunView'];
export type ScheduleView = Schemas['ScheduleView'];
export type RuleView = Schemas['RuleView'];
export type Dependencies = Schemas['JobDependenciesView'];
export type TargetSelection = Schemas['TargetSelection'];
export type TargetView = Schemas['TargetView'];
export type GroupView = Schemas['GroupView'];

/** A job in `GET /api/v1/jobs`: its summary, tags and last run. */
export type JobListItem = Schemas['JobListItem'];

/** The list's filters, as kept in the page's URL. */
export interface JobFilters {
  name?: string;
  tag?: string;
  owner?: string;
  last_status?: string;
  active?: string;
  offset?: number;
}

/** `POST /api/v1/jobs/bulk`'s answer. */
export interface BulkResult {
  active: boolean;
  items: { id: string; name: string; was_active: boolean }[];
}

/** One step of a dry run (`api/src/runs/preview.rs`). */
export interface PreviewStep {
  id: string;
  type: string;
  when?: string | null;
  with: Record<string, unknown>;
}

/** What a run would do; nothing was started. */
export interface Preview {
  job_id: string;
  job_name: string;
  version: number;
  parameters: Record<string, unknown>;
  targets: { id: string; name: string; address: string; pool: string; steps: PreviewStep[] }[];
  worker_steps: PreviewStep[];
  checks: string[];
}

/** The body of a run request and of its preview. */
export interface RunRequest {
  parameters: Record<string, unknown>;
  targets?: TargetSelection | null;
}

/** Page size of the list. */
export const PAGE = 50;

export const keys = {
  all: ['jobs'] as const,
  list: (f: JobFilters) => ['jobs', 'list', f] as const,
  one: (id: string) => ['jobs', 'one', id] as const,
  versions: (id: string) => ['jobs', 'one', id, 'versions'] as const,
  version: (id: string, v: number) => ['jobs', 'one', id, 'version', v] as const,
  deps: (id: string) => ['jobs', 'one', id, 'dependencies'] as const,
  runs: (id: string) => ['runs', 'list', { job_id: id, limit: 20 }] as const,
  schedules: (id: string) => ['schedules', 'list', { job_id: id }] as const,
  rules: ['notifications', 'rules'] as const,
  targets: ['targets', 'list', 'all'] as const,
  groups: ['groups', 'list', 'all'] as const,
};

const base = (id: string) => `/api/v1/jobs/${encodeURIComponent(id)}`;

export const fetchList = (f: JobFilters) =>
  api.get<Page<JobListItem>>('/api/v1/jobs', {
    query: {
      name: f.name,
      tag: f.tag,
      owner: f.owner,
      last_status: f.last_status,
      active: f.active,
      limit: PAGE,
      offset: f.offset,
    },
  });
export const fetchJob = (id: string) => api.get<JobView>(base(id));
export const fetchVersions = (id: string) => api.get<Page<VersionSummary>>(`${base(id)}/versions`, { query: { limit: 500 } });
export const fetchVersion = (id: string, v: number) => api.get<VersionView>(`${base(id)}/versions/${v}`);
export const fetchDependencies = (id: string) => api.get<Dependencies>(`${base(id)}/dependencies`);
export const fetchRuns = (id: string) => api.get<Page<RunView>>('/api/v1/runs', { query: { job_id: id, limit: 20 } });
export const fetchSchedules = (id: string) => api.get<Page<ScheduleView>>('/api/v1/schedules', { query: { job_id: id, limit: 500 } });
export const fetchRules = async (): Promise<RuleView[]> => {
  const body = await api.get<RuleView[] | { items: RuleView[] }>('/api/v1/notifications/rules');
  return Array.isArray(body) ? body : body.items;
};
export const fetchTargets = () => api.get<Page<TargetView>>('/api/v1/targets', { query: { limit: 500 } });
export const fetchGroups = () => api.get<Page<GroupView>>('/api/v1/target-groups', { query: { limit: 500 } });

export const setActive = (id: string, active: boolean) => api.patch<JobView>(base(id), { active });
export const bulkActive = (ids: string[], active: boolean) => api.post<BulkResult>('/api/v1/jobs/bulk', { ids, active });
export const cloneJob = (id: string, name: string) => api.post<JobView>(`${base(id)}/clone`, { name });
export const deleteJob = (id: string) => api.del(base(id));
export const importJob = (text: string, contentType: string, replace: boolean) =>
  api.post<JobView>('/api/v1/jobs/import', undefined, { rawBody: { text, contentType }, query: { replace: replace || undefined } });
export const previewRun = (id: string, body: RunRequest) => api.post<Preview>(`${base(id)}/preview`, body);
export const startRun = (id: string, body: RunRequest, key: string) =>
  api.post<Schemas['Accepted']>(`${base(id)}/run`, body, { headers: { 'Idempotency-Key': key } });

/** The job's definition as the API exports it (`yaml` or `json`). */
export async function exportText(id: string, format: 'yaml' | 'json'): Promise<string> {
  const res = await api.raw('GET', `${base(id)}/export`, undefined, {
    query: { format },
    headers: { Accept: format === 'yaml' ? 'application/yaml' : 'application/json' },
  });
  return res.text();
}

/** Rules whose conditions name this job: by id, by one of its tags, or by its owner. */
export function rulesFor(rules: RuleView[], job: Pick<JobView, 'id' | 'owner' | 'definition'>): RuleView[] {
  const tags = job.definition.tags ?? [];
  return rules.filter((r) => {
    const c = r.conditions ?? {};
    return (
      (c.job_ids ?? []).includes(job.id) ||
      (c.job_tags ?? []).some((t) => tags.includes(t)) ||
      (job.owner ? (c.job_owner_ids ?? []).includes(job.owner.id) : false)
    );
  });
}
