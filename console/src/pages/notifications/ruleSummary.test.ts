import { describe, expect, it } from 'vitest';
import { conditionRows, userRecipients } from './ruleSummary';

const names = {
  users: new Map([['u1', 'ada']]),
  schedules: new Map([['s1', 'nightly']]),
  groups: new Map([['g1', 'web']]),
};

describe('a rule in words', () => {
  it('names what it knows and shortens what it does not', () => {
    const rows = conditionRows(
      { job_owner_ids: ['u1', '0123456789abcdef'], schedule_ids: ['s1'], target_group_ids: ['g1'], min_duration_ms: 1500, time_of_day: { from: '22:00', to: '06:00', zone: 'Europe/Paris', days: ['mon', 'fri'] }, slow_margin_pct: 80 },
      names,
    );
    expect(rows).toEqual([
      ['Jobs owned by', 'ada, 89abcdef'],
      ['Targets in', 'web'],
      ['Schedules', 'nightly'],
      ['Took', 'at least 1.5 s'],
      ['Hours', '22:00 until 06:00 (Europe/Paris), mon, fri'],
      ['Slow means', '80% over the usual p95'],
    ]);
  });

  it('reads durations both ways, the whole day, and nothing when unset', () => {
    expect(conditionRows({ min_duration_ms: 1000, max_duration_ms: 60000 }, names)).toEqual([['Took', '1 s to 60 s']]);
    expect(conditionRows({ max_duration_ms: 250 }, names)).toEqual([['Took', 'at most 0.25 s']]);
    expect(conditionRows({ time_of_day: { from: '08:00', to: '08:00', zone: 'UTC' } }, names)).toEqual([['Hours', 'all day (UTC)']]);
    expect(conditionRows({}, names)).toEqual([]);
    expect(conditionRows(undefined, names)).toEqual([]);
  });

  it('lists user recipients only', () => {
    expect(userRecipients([{ type: 'user', user_id: 'u1' }, { type: 'email', address: 'a@x' }, { type: 'user', user_id: 'fedcba9876543210' }], names.users)).toBe('ada, 76543210');
    expect(userRecipients(undefined, names.users)).toBe('');
  });
});
