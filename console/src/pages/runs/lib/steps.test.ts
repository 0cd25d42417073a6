import { describe, expect, it } from 'vitest';
import { LiveSteps, mergeSteps } from './steps';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

describe('LiveSteps', () => {
  it('follows a step from start to end', () => {
    const l = new LiveSteps();
    expect(l.apply({ type: 'step_started', data: { step_id: 'a', target_id: 't', attempt: 1 } }, T0)).toBe(true);
    expect(l.list()[0]).toMatchObject({ status: 'running', started_at: iso(0), finished_at: null });
    l.apply({ type: 'step_finished', data: { step_id: 'a', target_id: 't', attempt: 1, status: 'failed', exit_code: 3, duration_ms: 500 } }, T0 + 2000);
    expect(l.list()[0]).toMatchObject({ status: 'failed', exit_code: 3, started_at: iso(0), finished_at: iso(2000) });
  });

  it('places a replayed step by its duration', () => {
    const l = new LiveSteps();
    l.apply({ type: 'step_started', data: { step_id: 'a', attempt: 1 } }, T0 + 10_000);
    l.apply({ type: 'step_finished', data: { step_id: 'a', attempt: 1, status: 'succeeded', duration_ms: 4000 } }, T0 + 10_001);
    expect(l.list()[0]).toMatchObject({ started_at: iso(6001), finished_at: iso(10_001) });
  });

  it('ignores other frames and a replayed start of an attempt it knows', () => {
    const l = new LiveSteps();
    expect(l.apply({ type: 'started' }, T0)).toBe(false);
    l.apply({ type: 'step_started', data: { step_id: 'a', attempt: 2 } }, T0);
    expect(l.apply({ type: 'step_started', data: { step_id: 'a', attempt: 1 } }, T0)).toBe(false);
    expect(l.list()).toHaveLength(1);
  });
});

describe('mergeSteps', () => {
  const server = [{ step_id: 'a', target_id: 't', attempt: 1, status: 'running', started_at: iso(0), finished_at: null }];

  it('adds what the API does not list yet', () => {
    const m = mergeSteps(server, [{ step_id: 'b', target_id: 't', attempt: 1, status: 'running', started_at: iso(5) }]);
    expect(m.map((s) => s.step_id)).toEqual(['a', 'b']);
  });

  it('takes an end the API did not know, keeping the server start', () => {
    const m = mergeSteps(server, [{ step_id: 'a', target_id: 't', attempt: 1, status: 'succeeded', started_at: iso(100), finished_at: iso(900), duration_ms: 700 }]);
    expect(m[0]).toMatchObject({ status: 'succeeded', started_at: iso(0), finished_at: iso(700) });
  });

  it('keeps the server when it knows as much, and a later attempt wins', () => {
    const done = [{ ...server[0]!, status: 'failed', finished_at: iso(50), exit_code: 1 }];
    expect(mergeSteps(done, [{ step_id: 'a', target_id: 't', attempt: 1, status: 'running', started_at: iso(1) }])[0]).toBe(done[0]);
    expect(mergeSteps(done, [{ step_id: 'a', target_id: 't', attempt: 2, status: 'running', started_at: iso(60) }])[0]).toMatchObject({ attempt: 2, status: 'running' });
  });
});
