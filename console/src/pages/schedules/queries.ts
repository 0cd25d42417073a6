// The schedules room's server state: schedules, their fires, the calendar,
// maintenance windows and the scheduler's status.
import { api } from '../../api/client';
import type { Page, Schemas } from '../../api/types';

export type Schedule = Schemas['ScheduleView'];
export type ScheduleBody = Schemas['ScheduleBody'];
export type FireView = Schemas['FireView'];
export type Occurrence = Schemas['OccurrenceView'];
export type Window = Schemas['WindowView'];
export type WindowBody = Schemas['WindowBody'];
export type SchedulerStatus = Schemas['SchedulerStatus'];
/** A run; its `trigger` is typed loosely in the generated types. */
export type RunView = Omit<Schemas['RunView'], 'trigger'> & { trigger: Schemas['Trigger'] };

export const keys = {
  all: ['schedules'] as const,
  list: (jobId?: string) => ['schedules', 'list', jobId ?? ''] as const,
  one: (id: string) => ['schedules', 'one', id] as const,
  next: (id: string) => ['schedules', 'next', id] as const,
  nextOf: (body: unknown) => ['schedules', 'next-of', JSON.stringify(body)] as const,
  fires: (id: string) => ['schedules', 'fires', id] as const,
  runs: (id: string) => ['schedules', 'runs', id] as const,
  calendar: (from: number, to: number) => ['schedules', 'calendar', from, to] as const,
  windows: ['windows'] as const,
  windowList: () => ['windows', 'list'] as const,
  window: (id: string) => ['windows', 'one', id] as const,
  windowCalendar: (from: number, to: number) => ['windows', 'calendar', from, to] as const,
  status: ['scheduler', 'status'] as const,
};

export const schedulePath = (id: string) => `/api/v1/schedules/${encodeURIComponent(id)}`;
export const windowPath = (id: string) => `/api/v1/maintenance-windows/${encodeURIComponent(id)}`;

export const fetchSchedules = (jobId?: string) => api.get<Page<Schedule>>('/api/v1/schedules', { query: { limit: 500, job_id: jobId } });
export const fetchSchedule = (id: string) => api.get<Schedule>(schedulePath(id));
export const fetchNext = (id: string, count = 10) => api.get<Schemas['NextView']>(`${schedulePath(id)}/next`, { query: { count } });
/** The next fires of an expression not saved yet (the form as typed). */
export const fetchNextOf = (body: Schemas['NextPreviewBody']) => api.post<Schemas['NextView']>('/api/v1/schedules/next', body);
export const fetchFires = (id: string, limit = 50) => api.get<Schemas['FiresView']>(`${schedulePath(id)}/fires`, { query: { limit } });
/** The runs a schedule started (runs of its job with trigger `schedule` and the schedule as actor). */
export async function fetchScheduleRuns(s: Pick<Schedule, 'id' | 'job_id'>): Promise<RunView[]> {
  const page = await api.get<Page<RunView>>('/api/v1/runs', { query: { job_id: s.job_id, trigger: 'schedule', limit: 50 } });
  return page.items.filter((r) => r.trigger.actor === s.id);
}
export const fetchCalendar = (from: number, to: number) =>
  api.get<Schemas['CalendarView']>('/api/v1/schedules/calendar', { query: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } });
export const fetchWindowCalendar = (from: number, to: number) =>
  api.get<Schemas['WindowCalendarView']>('/api/v1/maintenance-windows/calendar', { query: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } });
export const fetchWindows = () => api.get<Page<Window>>('/api/v1/maintenance-windows', { query: { limit: 500 } });
export const fetchWindow = (id: string) => api.get<Window>(windowPath(id));
export const fetchStatus = () => api.get<SchedulerStatus>('/api/v1/scheduler/status');
export const fetchJobs = () => api.get<Page<Schemas['JobListItem']>>('/api/v1/jobs', { query: { limit: 500 } });
export const fetchJob = (id: string) => api.get<Schemas['JobView']>(`/api/v1/jobs/${encodeURIComponent(id)}`);
export const fetchTargets = () => api.get<Page<Schemas['TargetView']>>('/api/v1/targets', { query: { limit: 500 } });
export const fetchGroups = () => api.get<Page<Schemas['GroupView']>>('/api/v1/target-groups', { query: { limit: 500 } });

export const setPaused = (id: string, paused: boolean) => api.post<Schedule>(`${schedulePath(id)}/${paused ? 'pause' : 'resume'}`);
export const setSchedulerPaused = (paused: boolean) => api.post<Schemas['SchedulerControl']>(`/api/v1/scheduler/${paused ? 'pause' : 'resume'}`);

/** A schedule's state in a word. */
export function stateOf(s: Pick<Schedule, 'enabled' | 'paused'>): 'disabled' | 'paused' | 'active' {
  if (!s.enabled) return 'disabled';
  return s.paused ? 'paused' : 'active';
}

/** An occurrence kind in words. */
export function kindText(kind: string): string {
  switch (kind) {
    case 'regular':
      return 'regular';
    case 'shifted_from_gap':
      return 'shifted (DST gap)';
    case 'skipped_gap':
      return 'skipped (DST gap)';
    case 'overlap_first':
      return 'overlap (first)';
    case 'overlap_second':
      return 'overlap (second)';
    default:
      return kind.replace(/_/g, ' ');
  }
}
