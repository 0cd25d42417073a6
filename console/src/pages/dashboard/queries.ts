// The dashboard's server state.
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import type { Period } from './lib/period';

export type Insights = Schemas['Insights'];
export type JobStats = Schemas['JobStats'];
export type SlowRun = Schemas['SlowRun'];
export type WorkerView = Schemas['WorkerView'];
export type CalendarItem = Schemas['CalendarItem'];
export type RunView = Schemas['RunView'];

export const keys = {
  insights: (p: string) => ['dashboard', 'insights', p] as const,
  workers: ['dashboard', 'workers'] as const,
  upcoming: ['dashboard', 'upcoming'] as const,
  activity: ['dashboard', 'activity'] as const,
  jobs: ['dashboard', 'jobs'] as const,
};

const HOUR = 3_600_000;

export const fetchInsights = (p: Period) => {
  const to = new Date();
  const from = new Date(to.getTime() - p.hours * HOUR);
  return api.get<Insights>('/api/v1/insights', { query: { from: from.toISOString(), to: to.toISOString(), bucket: p.bucket } });
};
export const fetchWorkers = () => api.get<Schemas['WorkerList']>('/api/v1/workers');
export const fetchUpcoming = () => {
  const from = new Date();
  const to = new Date(from.getTime() + 24 * HOUR);
  return api.get<Schemas['CalendarView']>('/api/v1/schedules/calendar', { query: { from: from.toISOString(), to: to.toISOString() } });
};
export const fetchActivity = () => api.get<Schemas['Page8']>('/api/v1/runs', { query: { limit: 25 } });
export const fetchJobNames = async () => {
  const page = await api.get<{ items: { id: string; name: string }[] }>('/api/v1/jobs', { query: { limit: 500 } });
  return new Map(page.items.map((j) => [j.id, j.name]));
};
