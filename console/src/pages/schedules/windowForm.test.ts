import { describe, expect, it } from 'vitest';
import { scopeText, timingText, windowBodyOf, windowFormOf } from './windowForm';

describe('the window form', () => {
  it('starts weekly on the weekend and refuses an empty scope', () => {
    const f = windowFormOf(undefined, 'Europe/Berlin');
    expect(f).toMatchObject({ kind: 'weekly', days: [6, 7], time_zone: 'Europe/Berlin' });
    const b = windowBodyOf({ ...f, name: 'w' });
    expect(b).toEqual({ ok: false, errors: { scope: expect.any(String) } });
  });

  it('builds weekly and one-off bodies', () => {
    const f = { ...windowFormOf(undefined, 'UTC'), name: ' patch ', global: true, days: [7, 1], duration_mins: '90' };
    expect(windowBodyOf(f)).toMatchObject({
      ok: true,
      body: { name: 'patch', timing: { kind: 'weekly', days: [1, 7], start_time: '02:00', duration_mins: 90, time_zone: 'UTC' }, scope: { global: true } },
    });
    const once = { ...f, kind: 'once' as const, time_zone: 'Europe/Berlin', start: '2026-03-08T02:00', end: '2026-03-08T01:00' };
    expect(windowBodyOf(once)).toEqual({ ok: false, errors: { end: 'It must close after it opens.' } });
    expect(windowBodyOf({ ...once, end: '2026-03-08T04:00' })).toMatchObject({
      ok: true,
      body: { timing: { kind: 'once', start: '2026-03-08T01:00:00.000Z', end: '2026-03-08T03:00:00.000Z' } },
    });
    expect(windowBodyOf({ ...f, duration_mins: '20000' })).toMatchObject({ ok: false, errors: { duration_mins: expect.any(String) } });
  });

  it('reads the stored timing back into the form', () => {
    const f = windowFormOf(
      {
        id: 'w',
        name: 'x',
        description: '',
        enabled: true,
        timing: { kind: 'once', start: '2026-03-08T01:00:00Z', end: '2026-03-08T03:00:00Z' },
        scope: { global: false, jobs: ['j1'], groups: [], targets: [] },
        fire_policy: 'defer',
        target_policy: 'include',
        revision: 1,
        created_at: '',
        updated_at: '',
        open_now: false,
        next_openings: [],
      },
      'Europe/Berlin',
    );
    expect(f).toMatchObject({ kind: 'once', start: '2026-03-08T02:00', end: '2026-03-08T04:00', jobs: ['j1'], fire_policy: 'defer' });
  });

  it('says timing and scope in words', () => {
    expect(timingText({ kind: 'weekly', days: [6, 7], start_time: '02:00', duration_mins: 150, time_zone: 'Europe/Berlin' }, String)).toBe('Sat, Sun 02:00 for 2h 30m (Europe/Berlin)');
    expect(timingText({ kind: 'weekly', days: [1, 2, 3, 4, 5, 6, 7], start_time: '00:00', duration_mins: 45, time_zone: null }, String)).toBe('every day 00:00 for 45m (UTC)');
    expect(timingText({ kind: 'once', start: 'a', end: 'b' }, (s) => s.toUpperCase())).toBe('once, A → B');
    expect(scopeText({ global: true, jobs: [], groups: [], targets: [] }, new Map())).toBe('everything');
    expect(scopeText({ global: false, targets: [], jobs: ['j1'], groups: ['0123456789'] }, new Map([['j1', 'backup']]))).toBe('jobs backup; groups 23456789');
  });
});
