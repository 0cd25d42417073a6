import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/types';
import type { Kind } from './channelForm';
import { emptySend, recipientsOf, recipientsText, ruleBodyOf, ruleFormOf, ruleProblems, type RuleForm } from './ruleForm';

const kinds = new Map<string, Kind>([
  ['mail', 'email'],
  ['chat', 'slack'],
]);

const line = (channel_id: string, more: Partial<ReturnType<typeof emptySend>> = {}) => ({ ...emptySend(), channel_id, ...more });
/** A form that builds, changed by `patch`. */
const valid = (patch: Partial<RuleForm> = {}): RuleForm => ({ ...ruleFormOf(undefined, 'Europe/Paris'), name: 'r', send_to: [line('mail')], ...patch });
const errorsOf = (f: RuleForm) => {
  const b = ruleBodyOf(f, kinds);
  return b.ok ? {} : b.errors;
};
const conditionsOf = (f: RuleForm) => {
  const b = ruleBodyOf(f, kinds);
  if (!b.ok) throw new Error(JSON.stringify(b.errors));
  return b.body.conditions;
};

const stored: Schemas['RuleView'] = {
  id: 'r1',
  name: 'db',
  enabled: true,
  triggers: ['run_failed', 'run_slow'],
  conditions: {
    job_ids: ['j1'],
    job_tags: ['db'],
    job_owner_ids: ['u2', 'u1'],
    schedule_ids: ['s1'],
    statuses: ['failed'],
    target_group_ids: ['g1'],
    min_duration_ms: 1500,
    max_duration_ms: 90000,
    time_of_day: { from: '22:00', to: '06:00', zone: 'America/New_York', days: ['mon', 'fri'] },
    slow_margin_pct: 80,
  },
  send_to: [{ channel_id: 'mail', to: [{ type: 'user', user_id: 'u1' }, { type: 'user', user_id: 'u3' }, { type: 'email', address: 'dba@x' }, { type: 'job_owner' }] }],
  escalation: { after_failures: 3, send_to: [{ channel_id: 'chat', to: [{ type: 'user', user_id: 'u2' }] }, { channel_id: 'mail', to: [] }] },
  recovery: false,
  revision: 2,
  created_at: '',
  updated_at: '',
};

describe('rule bodies', () => {
  it('starts from run failures, no conditions and the zone offered, and asks for a name and a channel', () => {
    const f = ruleFormOf(undefined, 'Europe/Paris');
    expect(f.triggers).toEqual(['run_failed']);
    expect(f).toMatchObject({ job_owner_ids: [], schedule_ids: [], min_duration: '', max_duration: '', tod_from: '', tod_to: '', tod_zone: 'Europe/Paris', tod_days: [], slow_margin_pct: '' });
    expect(ruleBodyOf(f, kinds)).toEqual({ ok: false, errors: { name: 'A name is required.', send_to: 'Choose at least one channel.' } });
    expect(conditionsOf(valid())).toEqual({
      job_ids: [], job_tags: [], job_owner_ids: [], schedule_ids: [], statuses: [], target_group_ids: [],
      min_duration_ms: null, max_duration_ms: null, time_of_day: null, slow_margin_pct: null,
    });
  });

  it('reads recipients per channel kind, users first, in order and once', () => {
    const f = { ...ruleFormOf(), name: ' r ', job_ids: ['j1'], job_tags: 'db, web', send_to: [
      line('mail', { to: 'a@x, b@x', job_owner: true, user_ids: ['u2', 'u1', 'u2'] }),
      line('chat', { to: '#ops, U0ABC', started_by: true }),
      line('', { to: 'ignored' }),
    ] };
    const b = ruleBodyOf(f, kinds);
    expect(b).toMatchObject({
      ok: true,
      body: {
        name: 'r',
        conditions: { job_ids: ['j1'], job_tags: ['db', 'web'] },
        throttle: null,
        escalation: null,
        after_failures: null,
      },
    });
    expect(b.ok && b.body.send_to).toEqual([
      { channel_id: 'mail', to: [{ type: 'user', user_id: 'u2' }, { type: 'user', user_id: 'u1' }, { type: 'email', address: 'a@x' }, { type: 'email', address: 'b@x' }, { type: 'job_owner' }] },
      { channel_id: 'chat', to: [{ type: 'slack_channel', channel: '#ops' }, { type: 'slack_user', user: 'U0ABC' }, { type: 'started_by' }] },
    ]);
  });

  it('checks gates and escalation', () => {
    const base = valid();
    expect(ruleBodyOf({ ...base, after_failures: '0' }, kinds)).toMatchObject({ ok: false, errors: { after_failures: expect.any(String) } });
    expect(ruleBodyOf({ ...base, throttle: true, throttle_max: '3', throttle_per: '30', throttle_then: 'digest' }, kinds)).toMatchObject({
      ok: true,
      body: { throttle: { max: 3, per_minutes: 30, then: 'digest' } },
    });
    expect(ruleBodyOf({ ...base, escalate: true }, kinds)).toMatchObject({ ok: false, errors: { esc_send_to: expect.any(String), esc_after_failures: expect.any(String) } });
    const esc = ruleBodyOf({ ...base, escalate: true, esc_unacked: '15', esc_send_to: line('chat', { to: '#oncall', user_ids: ['u9'] }) }, kinds);
    expect(esc.ok && esc.body.escalation).toEqual({
      unacked_minutes: 15,
      after_failures: null,
      send_to: [{ channel_id: 'chat', to: [{ type: 'user', user_id: 'u9' }, { type: 'slack_channel', channel: '#oncall' }] }],
    });
  });

  it('round-trips a stored rule: every condition and user recipient through the form', () => {
    const f = ruleFormOf(stored, 'Europe/Paris');
    expect(f).toMatchObject({
      job_owner_ids: ['u2', 'u1'],
      schedule_ids: ['s1'],
      min_duration: '1.5',
      max_duration: '90',
      tod_from: '22:00',
      tod_to: '06:00',
      tod_zone: 'America/New_York',
      tod_days: ['mon', 'fri'],
      slow_margin_pct: '80',
    });
    expect(f.send_to).toEqual([{ channel_id: 'mail', user_ids: ['u1', 'u3'], to: 'dba@x', job_owner: true, started_by: false }]);
    expect(f.esc_send_to).toEqual({ channel_id: 'chat', user_ids: ['u2'], to: '', job_owner: false, started_by: false });
    const b = ruleBodyOf(f, kinds, stored);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    expect(b.body.conditions).toEqual(stored.conditions);
    expect(b.body.send_to).toEqual(stored.send_to);
    expect(b.body.triggers).toEqual(['run_failed', 'run_slow']);
    expect(b.body.recovery).toBe(false);
    // The form shows the first escalation target; the others are kept as they were.
    expect(b.body.escalation).toEqual({ after_failures: 3, unacked_minutes: null, send_to: stored.escalation?.send_to });
    expect(recipientsText([{ type: 'job_owner' }, { type: 'slack_user', user: 'U1' }, { type: 'user', user_id: 'u1' }, { type: 'user', user_id: 'u1' }])).toEqual({
      user_ids: ['u1'],
      to: 'U1',
      job_owner: true,
      started_by: false,
    });
  });

  it('clears in the body what is cleared in the form, carrying nothing over', () => {
    const f: RuleForm = {
      ...ruleFormOf(stored, 'UTC'),
      job_owner_ids: [],
      schedule_ids: [],
      min_duration: '',
      max_duration: ' ',
      tod_from: '',
      tod_to: '',
      tod_days: [],
      slow_margin_pct: '',
      send_to: [line('mail', { to: 'dba@x' })],
      esc_send_to: line('chat'),
    };
    const b = ruleBodyOf(f, kinds, stored);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    expect(b.body.conditions).toMatchObject({ job_owner_ids: [], schedule_ids: [], min_duration_ms: null, max_duration_ms: null, time_of_day: null, slow_margin_pct: null });
    expect(b.body.send_to).toEqual([{ channel_id: 'mail', to: [{ type: 'email', address: 'dba@x' }] }]);
    expect(b.body.escalation?.send_to[0]).toEqual({ channel_id: 'chat', to: [] });
    // Without the run_slow trigger the margin means nothing and is not sent.
    const noSlow = ruleBodyOf({ ...ruleFormOf(stored), triggers: ['run_failed'] }, kinds, stored);
    expect(noSlow.ok && noSlow.body.conditions.slow_margin_pct).toBeNull();
  });

  it('checks the slow margin, only with the run_slow trigger', () => {
    const slow = (pct: string) => valid({ triggers: ['run_slow'], slow_margin_pct: pct });
    for (const bad of ['0', '1001', '12.5', 'x', '-3']) expect(errorsOf(slow(bad))).toEqual({ slow_margin_pct: 'A whole number, 1 to 1000.' });
    expect(conditionsOf(slow('1')).slow_margin_pct).toBe(1);
    expect(conditionsOf(slow(' 1000 ')).slow_margin_pct).toBe(1000);
    expect(conditionsOf(slow('')).slow_margin_pct).toBeNull();
    expect(errorsOf(valid({ triggers: ['run_failed'], slow_margin_pct: '0' }))).toEqual({});
  });

  it('takes durations in seconds and checks them', () => {
    const c = conditionsOf(valid({ min_duration: '0.25', max_duration: '3600' }));
    expect([c.min_duration_ms, c.max_duration_ms]).toEqual([250, 3600000]);
    expect(conditionsOf(valid({ min_duration: '0', max_duration: '0' })).max_duration_ms).toBe(0);
    for (const bad of ['-1', '1.2345', 'ten', '1,5']) expect(Object.keys(errorsOf(valid({ min_duration: bad })))).toEqual(['min_duration']);
    expect(Object.keys(errorsOf(valid({ max_duration: '1e3' })))).toEqual(['max_duration']);
    expect(errorsOf(valid({ min_duration: '90', max_duration: '60' }))).toEqual({ max_duration: 'Must not be below the shortest (90 s).' });
    expect(errorsOf(valid({ min_duration: '60', max_duration: '60' }))).toEqual({});
  });

  it('checks the hours of the day', () => {
    const hours = (from: string, to: string, more: Partial<RuleForm> = {}) => valid({ tod_from: from, tod_to: to, ...more });
    expect(errorsOf(hours('08:00', ''))).toEqual({ tod_to: 'Give the end as well.' });
    expect(errorsOf(hours('', '18:00'))).toEqual({ tod_from: 'Give the start as well.' });
    // The same start and end: the whole day (as the notifier reads it).
    expect(errorsOf(hours('08:00', '08:00'))).toEqual({});
    expect(errorsOf(hours('8:00', '25:00'))).toEqual({ tod_from: 'A time, HH:MM.', tod_to: 'A time, HH:MM.' });
    expect(errorsOf(hours('08:00', '18:00', { tod_zone: '' }))).toEqual({ tod_zone: 'Choose a time zone.' });
    expect(Object.keys(errorsOf(hours('', '', { tod_days: ['sat'] })))).toEqual(['tod_from']);
    // Across midnight, days written mon … sun whatever the order they were ticked in.
    expect(conditionsOf(hours('22:00', '06:00', { tod_days: ['sun', 'mon', 'wed'] })).time_of_day).toEqual({ from: '22:00', to: '06:00', zone: 'Europe/Paris', days: ['mon', 'wed', 'sun'] });
  });

  it('places the api problems', () => {
    expect(ruleProblems([
      { path: '/send_to/0/to/1', message: 'not an email channel' },
      { path: '/throttle/per_minutes', message: 'too long' },
      { path: '/conditions/job_ids/0', message: 'no such job' },
      { path: '/escalation/send_to/0/channel_id', message: 'unknown' },
      { path: '/conditions/max_duration_ms', message: 'below min' },
      { path: '/conditions/time_of_day/zone', message: 'no zone' },
      { path: '/conditions/time_of_day/days/1', message: 'no day' },
      { path: '/conditions/time_of_day', message: 'bad hours' },
      { path: '/conditions/slow_margin_pct', message: 'too big' },
    ])).toEqual({
      send_to: 'not an email channel',
      throttle_per: 'too long',
      job_ids: 'no such job',
      esc_send_to: 'unknown',
      max_duration: 'below min',
      tod_zone: 'no zone',
      tod_days: 'no day',
      tod_from: 'bad hours',
      slow_margin_pct: 'too big',
    });
  });
});

describe('recipients per channel kind', () => {
  const line = { ...emptySend(), channel_id: 'c', user_ids: ['u1'], to: 'a@x', job_owner: true };
  it('sends users, addresses and the owner on email and Slack', () => {
    expect(recipientsOf(line, 'email')).toEqual([{ type: 'user', user_id: 'u1' }, { type: 'email', address: 'a@x' }, { type: 'job_owner' }]);
    expect(recipientsOf({ ...line, to: '#ops, U123' }, 'slack')).toEqual([
      { type: 'user', user_id: 'u1' },
      { type: 'slack_channel', channel: '#ops' },
      { type: 'slack_user', user: 'U123' },
      { type: 'job_owner' },
    ]);
  });
  it('sends nobody on Teams and webhooks, whatever the line held for another kind', () => {
    expect(recipientsOf(line, 'teams')).toEqual([]);
    expect(recipientsOf(line, 'webhook')).toEqual([]);
  });
});
