// The notifications room's server state: channels, rules, preferences,
// history, dead letters and the notifier's status.
import { api } from '../../api/client';
import type { Page, Schemas } from '../../api/types';
import { keys as adminKeys } from '../admin/queries';

export type Channel = Schemas['ChannelView'];
export type ChannelBody = Schemas['ChannelBody'];
export type Rule = Schemas['RuleView'];
/** A rule as written: the api sets `id` and `revision`. */
export type RuleBody = Omit<Schemas['RuleDoc'], 'id' | 'revision'>;
export type Notification = Schemas['NotificationView'];
export type NotificationDetail = Schemas['NotificationDetail'];
export type Prefs = Schemas['PreferencesDoc'];
export type PrefsBody = Schemas['PreferencesBody'];
export type Preview = Schemas['RulePreview'];
export type TestOutcome = Schemas['TestOutcome2'];

export const keys = {
  channels: ['notifications', 'channels'] as const,
  channel: (id: string) => ['notifications', 'channels', id] as const,
  rules: ['notifications', 'rules'] as const,
  rule: (id: string) => ['notifications', 'rules', id] as const,
  rulePreview: (id: string) => ['notifications', 'rules', id, 'preview'] as const,
  prefs: ['notifications', 'preferences', 'me'] as const,
  defaults: ['notifications', 'defaults'] as const,
  history: (q: Record<string, string | number | undefined>) => ['notifications', 'history', q] as const,
  one: (id: string) => ['notifications', 'one', id] as const,
  deadLetters: (offset: number) => ['notifications', 'dead-letters', offset] as const,
  status: ['notifications', 'status'] as const,
  control: ['notifications', 'control'] as const,
  /** Every user, for the rule form's pickers: among the admin room's user lists, so its changes refresh it. */
  users: [...adminKeys.userLists, 'all'] as const,
};

const N = '/api/v1/notifications';
export const channelPath = (id: string) => `${N}/channels/${encodeURIComponent(id)}`;
export const rulePath = (id: string) => `${N}/rules/${encodeURIComponent(id)}`;

export const fetchChannels = () => api.get<Channel[]>(`${N}/channels`);
export const fetchChannel = (id: string) => api.get<Channel>(channelPath(id));
export const testChannel = (id: string, to: Schemas['Recipient'][]) => api.post<TestOutcome>(`${channelPath(id)}/test`, { to });
export const fetchRules = () => api.get<Rule[]>(`${N}/rules`);
export const fetchRule = (id: string) => api.get<Rule>(rulePath(id));
export const previewRule = (body: RuleBody, limit = 20) => api.post<Preview>(`${N}/rules/preview`, body, { query: { limit } });
export const previewStoredRule = (id: string, limit = 20) => api.get<Preview>(`${rulePath(id)}/preview`, { query: { limit } });
export const fetchPrefs = () => api.get<Prefs>(`${N}/preferences/me`);
export const savePrefs = (body: PrefsBody) => api.put<Prefs>(`${N}/preferences/me`, body);
export const fetchDefaults = () => api.get<Schemas['DefaultsDoc']>(`${N}/defaults`);
export const fetchHistory = (q: Record<string, string | number | undefined>) => api.get<Page<Notification>>(N, { query: q });
export const fetchNotification = (id: string) => api.get<NotificationDetail>(`${N}/${encodeURIComponent(id)}`);
export const ack = (id: string) => api.post<Schemas['AckView']>(`${N}/${encodeURIComponent(id)}/ack`);
export const fetchDeadLetters = (offset: number) => api.get<Page<Notification>>(`${N}/dead-letters`, { query: { limit: 50, offset } });
export const resendOne = (id: string) => api.post<Schemas['ResendsView']>(`${N}/dead-letters/${encodeURIComponent(id)}/resend`);
export const resendMany = (ids: string[]) => api.post<Schemas['ResendsView']>(`${N}/dead-letters/resend`, { ids });
export const fetchStatus = () => api.get<Schemas['StatusView']>(`${N}/status`);
export const fetchControl = () => api.get<Schemas['NotifyControl']>(`${N}/control`);
export const setDeliveryPaused = (paused: boolean) => api.post<Schemas['NotifyControl']>(`${N}/control/${paused ? 'pause' : 'resume'}`);
export const fetchJobs = () => api.get<Page<Schemas['JobListItem']>>('/api/v1/jobs', { query: { limit: 500 } });
/** Every user, by username (admins only, as rule editing is). */
export const fetchUsers = () => api.get<Page<Schemas['UserView']>>('/api/v1/users', { query: { limit: 500 } });
export const fetchGroups = () => api.get<Page<Schemas['GroupView']>>('/api/v1/target-groups', { query: { limit: 500 } });

export const TRIGGERS: Schemas['NotifyTrigger'][] = [
  'run_failed',
  'run_succeeded',
  'run_started',
  'run_cancelled',
  'run_timed_out',
  'run_worker_lost',
  'run_retrying',
  'status_changed',
  'run_slow',
  'failure_streak',
  'recovered',
  'schedule_skipped',
  'schedule_misfired',
  'target_test_failed',
  'dead_letter',
];

export const STATUSES = ['delivered', 'failed', 'dead_lettered', 'held', 'dropped', 'acknowledged'] as const;

/** `run_failed` → `run failed`. */
export const words = (s: string | null | undefined) => (s ? s.replace(/_/g, ' ') : '—');
