import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/types';
import { historyQuery, withFilter } from './history';
import { prefsBodyOf, prefsFormOf, quietText } from './prefsForm';

const prefs: Schemas['PreferencesDoc'] = {
  user_id: 'u1',
  username: 'ann',
  time_zone: 'Europe/Berlin',
  active: true,
  revision: 2,
  channels: { c1: 'failures_only' },
  subscriptions: { job_ids: ['j1'], tags: [], group_ids: ['g1'], channels: [], own_runs: false },
  quiet_hours: null,
  quiet_hours_off: false,
};

describe('preferences', () => {
  it('keeps what the form does not show and drops default levels', () => {
    const f = prefsFormOf(prefs);
    expect(f.quiet).toBe(false);
    const b = prefsBodyOf({ ...f, quiet: true, quiet_days: ['sun', 'mon'], tags: 'db, web', levels: { c1: 'all', c2: 'none' } }, prefs);
    expect(b).toEqual({
      ok: true,
      body: {
        time_zone: 'Europe/Berlin',
        slack_user: null,
        quiet_hours: { from: '22:00', to: '07:00', days: ['mon', 'sun'], mode: 'digest' },
        quiet_hours_off: false,
        channels: { c2: 'none' },
        subscriptions: { job_ids: ['j1'], tags: ['db', 'web'], group_ids: ['g1'], channels: [], own_runs: false },
      },
    });
  });

  it('refuses bad times and Slack ids', () => {
    const f = prefsFormOf(prefs);
    expect(prefsBodyOf({ ...f, quiet: true, quiet_from: '25:00', quiet_to: '07:00', slack_user: 'ann' }, prefs)).toEqual({
      ok: false,
      errors: { quiet_from: 'A time, HH:MM.', slack_user: expect.any(String) },
    });
    expect(prefsBodyOf({ ...f, quiet: true, quiet_from: '07:00', quiet_to: '07:00' }, prefs)).toMatchObject({ ok: false, errors: { quiet_to: expect.any(String) } });
    expect(quietText({ from: '22:00', to: '07:00', days: [], mode: 'drop' })).toBe('22:00–07:00, every day; dropped');
  });
});

describe('history filters', () => {
  it('reads the URL into the api query', () => {
    const s = new URLSearchParams('status=failed&since=2026-03-08T02:00&job_id=&offset=50&other=x');
    expect(historyQuery(s, 'Europe/Berlin')).toEqual({ limit: 50, status: 'failed', since: '2026-03-08T01:00:00.000Z', offset: 50 });
    expect(historyQuery(new URLSearchParams('offset=-3'), 'UTC')).toEqual({ limit: 50 });
  });

  it('starts paging again when a filter changes', () => {
    const s = new URLSearchParams('status=failed&offset=100');
    expect(withFilter(s, 'status', '').toString()).toBe('');
    expect(withFilter(s, 'offset', '150').toString()).toBe('status=failed&offset=150');
    expect(withFilter(s, 'run_id', 'r1').toString()).toBe('status=failed&run_id=r1');
  });
});
