import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/types';
import { bodyOf, formOf, fromLocalInput, patchOf, previewOf, problemsByField, toLocalInput } from './scheduleForm';

const specs = { env: { type: 'string' as const, required: true }, token: { type: 'secret' as const }, count: { type: 'int' as const, default: 2 } };

const stored: Schemas['ScheduleView'] = {
  id: 's1',
  name: 'nightly',
  description: '',
  job_id: 'j1',
  cron: '30 2 * * *',
  time_zone: 'Europe/Berlin',
  enabled: true,
  paused: false,
  dst: { gap: 'shift', overlap: 'first' },
  misfire: { mode: 'run_once', max_age_secs: 3600, max_count: 10, stagger_ms: 1000 },
  parameters: { env: 'prod' },
  secret_parameters: ['token'],
  revision: 3,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  start_at: '2026-04-01T06:00:00Z',
  retry: { max_retries: 2, backoff: 2, delay_secs: 30, jitter_pct: 10, max_delay_secs: 3600, on: ['timed_out'] },
};

describe('datetime-local in a zone', () => {
  it('round-trips through the zone', () => {
    expect(toLocalInput('2026-04-01T06:00:00Z', 'Europe/Berlin')).toBe('2026-04-01T08:00');
    expect(fromLocalInput('2026-04-01T08:00', 'Europe/Berlin')).toBe('2026-04-01T06:00:00.000Z');
    expect(fromLocalInput('2026-04-01T08:00', 'UTC')).toBe('2026-04-01T08:00:00.000Z');
    expect(fromLocalInput('tomorrow', 'UTC')).toBeNull();
    expect(toLocalInput(null, 'UTC')).toBe('');
  });
});

describe('the schedule body', () => {
  it('checks the form before asking the api', () => {
    const f = formOf(undefined, specs, 'UTC');
    const b = bodyOf(f, specs);
    expect(b.ok).toBe(false);
    if (!b.ok) expect(Object.keys(b.errors).sort()).toEqual(['cron', 'job_id', 'name', 'parameters.env']);
  });

  it('builds the whole body, lending what the form does not edit', () => {
    const f = formOf(stored, specs, 'UTC');
    expect(f.start_at).toBe('2026-04-01T08:00');
    expect(f.params).toEqual({ env: 'prod', token: '', count: '2' });
    const b = bodyOf({ ...f, cron: ' */5   * * * * ' }, specs, stored);
    expect(b).toMatchObject({
      ok: true,
      body: {
        cron: '*/5 * * * *',
        time_zone: 'Europe/Berlin',
        start_at: '2026-04-01T06:00:00.000Z',
        end_at: null,
        misfire: { mode: 'run_once', max_age_secs: 3600, max_count: 10, stagger_ms: 1000 },
        retry: { max_retries: 2, backoff: 2, delay_secs: 30, jitter_pct: 10, max_delay_secs: 3600, on: ['timed_out'] },
        targets: null,
        parameters: { env: 'prod' },
      },
    });
  });

  it('patches only what changed, keeping stored secrets unless parameters changed', () => {
    const f = formOf(stored, specs, 'UTC');
    expect(patchOf(f, { ...f, cron: '0 3 * * *' }, specs, stored)).toEqual({ ok: true, body: { cron: '0 3 * * *' } });
    const p = patchOf(f, { ...f, params: { ...f.params, env: 'test' } }, specs, stored);
    expect(p).toEqual({ ok: true, body: { parameters: { env: 'test', count: 2 } } });
    // A new zone reads the start in it: the start instant is sent again.
    const z = patchOf(f, { ...f, time_zone: 'UTC' }, specs, stored);
    expect(z).toEqual({ ok: true, body: { time_zone: 'UTC', start_at: '2026-04-01T08:00:00.000Z', end_at: null } });
    expect(patchOf(f, f, specs, stored)).toEqual({ ok: true, body: {} });
  });

  it('puts the api problems on their fields', () => {
    const { byField, rest } = problemsByField([
      { path: '/cron', message: 'invalid cron expression: minute field: 61 is out of range 0-59' },
      { path: '/time_zone', message: 'unknown time zone' },
      { path: '/parameters/env', message: 'required' },
      { path: '/job_name', message: 'no such job' },
      { path: '', message: 'something else' },
    ]);
    expect(byField).toEqual({
      cron: 'invalid cron expression: minute field: 61 is out of range 0-59',
      time_zone: 'unknown time zone',
      'parameters.env': 'required',
      job_id: 'no such job',
    });
    expect(rest).toEqual([{ path: '', message: 'something else' }]);
  });
});

describe('the preview of the form as typed', () => {
  it('sends the expression, zone, policy and bounds as instants; nothing while the expression is empty or a bound does not read', () => {
    const f = formOf(stored, specs, 'UTC');
    const body = previewOf({ ...f, cron: ' 0 3 * * * ', start_at: '2027-01-02T03:04' }, 3);
    expect(body).toMatchObject({ cron: '0 3 * * *', time_zone: f.time_zone, dst: { gap: f.gap, overlap: f.overlap }, count: 3 });
    expect(body?.start_at).toBe(fromLocalInput('2027-01-02T03:04', f.time_zone));
    expect(previewOf({ ...f, cron: '  ' })).toBeNull();
    expect(previewOf({ ...f, end_at: 'not a time' })).toBeNull();
  });
});
