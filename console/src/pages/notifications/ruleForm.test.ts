import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/types';
import type { Kind } from './channelForm';
import { recipientsText, ruleBodyOf, ruleFormOf, ruleProblems } from './ruleForm';

const kinds = new Map<string, Kind>([
  ['mail', 'email'],
  ['chat', 'slack'],
]);

describe('rule bodies', () => {
  it('starts from run failures and asks for a name and a channel', () => {
    const f = ruleFormOf();
    expect(f.triggers).toEqual(['run_failed']);
    expect(ruleBodyOf(f, kinds)).toEqual({ ok: false, errors: { name: 'A name is required.', send_to: 'Choose at least one channel.' } });
  });

  it('reads recipients per channel kind', () => {
    const f = { ...ruleFormOf(), name: ' r ', job_ids: ['j1'], job_tags: 'db, web', send_to: [
      { channel_id: 'mail', to: 'a@x, b@x', job_owner: true, started_by: false },
      { channel_id: 'chat', to: '#ops, U0ABC', job_owner: false, started_by: true },
      { channel_id: '', to: 'ignored', job_owner: false, started_by: false },
    ] };
    const b = ruleBodyOf(f, kinds);
    expect(b).toMatchObject({
      ok: true,
      body: {
        name: 'r',
        conditions: { job_ids: ['j1'], job_tags: ['db', 'web'] },
        send_to: [
          { channel_id: 'mail', to: [{ type: 'email', address: 'a@x' }, { type: 'email', address: 'b@x' }, { type: 'job_owner' }] },
          { channel_id: 'chat', to: [{ type: 'slack_channel', channel: '#ops' }, { type: 'slack_user', user: 'U0ABC' }, { type: 'started_by' }] },
        ],
        throttle: null,
        escalation: null,
        after_failures: null,
      },
    });
  });

  it('checks gates and escalation', () => {
    const base = { ...ruleFormOf(), name: 'r', send_to: [{ channel_id: 'mail', to: '', job_owner: false, started_by: false }] };
    expect(ruleBodyOf({ ...base, after_failures: '0' }, kinds)).toMatchObject({ ok: false, errors: { after_failures: expect.any(String) } });
    expect(ruleBodyOf({ ...base, throttle: true, throttle_max: '3', throttle_per: '30', throttle_then: 'digest' }, kinds)).toMatchObject({
      ok: true,
      body: { throttle: { max: 3, per_minutes: 30, then: 'digest' } },
    });
    expect(ruleBodyOf({ ...base, escalate: true }, kinds)).toMatchObject({ ok: false, errors: { esc_send_to: expect.any(String), esc_after_failures: expect.any(String) } });
    expect(ruleBodyOf({ ...base, escalate: true, esc_unacked: '15', esc_send_to: { channel_id: 'chat', to: '#oncall', job_owner: false, started_by: false } }, kinds)).toMatchObject({
      ok: true,
      body: { escalation: { unacked_minutes: 15, after_failures: null, send_to: [{ channel_id: 'chat', to: [{ type: 'slack_channel', channel: '#oncall' }] }] } },
    });
  });

  it('round-trips a stored rule, keeping what the form does not edit', () => {
    const stored: Schemas['RuleView'] = {
      id: 'r1',
      name: 'db',
      enabled: true,
      triggers: ['run_failed', 'recovered'],
      conditions: { job_ids: [], job_tags: ['db'], job_owner_ids: [], schedule_ids: [], statuses: [], target_group_ids: [], time_of_day: { from: '08:00', to: '18:00', days: [], zone: 'UTC' } },
      send_to: [{ channel_id: 'mail', to: [{ type: 'user', user_id: 'u1' }, { type: 'email', address: 'dba@x' }] }],
      recovery: false,
      revision: 2,
      created_at: '',
      updated_at: '',
    };
    const f = ruleFormOf(stored);
    expect(f.send_to).toEqual([{ channel_id: 'mail', to: 'dba@x', job_owner: false, started_by: false }]);
    const b = ruleBodyOf(f, kinds, stored);
    expect(b).toMatchObject({
      ok: true,
      body: {
        triggers: ['run_failed', 'recovered'],
        recovery: false,
        conditions: { job_tags: ['db'], time_of_day: { from: '08:00', to: '18:00' } },
        send_to: [{ channel_id: 'mail', to: [{ type: 'user', user_id: 'u1' }, { type: 'email', address: 'dba@x' }] }],
      },
    });
    expect(recipientsText([{ type: 'job_owner' }, { type: 'slack_user', user: 'U1' }])).toEqual({ to: 'U1', job_owner: true, started_by: false });
  });

  it('places the api problems', () => {
    expect(ruleProblems([
      { path: '/send_to/0/to/1', message: 'not an email channel' },
      { path: '/throttle/per_minutes', message: 'too long' },
      { path: '/conditions/job_ids/0', message: 'no such job' },
      { path: '/escalation/send_to/0/channel_id', message: 'unknown' },
    ])).toEqual({ send_to: 'not an email channel', throttle_per: 'too long', job_ids: 'no such job', esc_send_to: 'unknown' });
  });
});
