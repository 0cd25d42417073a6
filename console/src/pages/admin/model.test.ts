import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import { byPool, fieldErrors, grantable, loadPercent, newTokenBody, tokenState, workerState } from './model';
import type { Worker } from './queries';

const problem = (detail: string, errors?: { path: string; message: string }[]) =>
  new ApiError({ title: 'Invalid Request Body', status: 422, detail, errors });

describe('fieldErrors', () => {
  it('places an error by its path', () => {
    const e = problem('1 problem', [{ path: '/password', message: 'shorter than 12 characters' }]);
    expect(fieldErrors(e, ['username', 'password'])).toEqual({ password: 'shorter than 12 characters' });
  });

  it('places a sentence without a path by its first word', () => {
    const e = problem("username must be 3-64 of a-z, 0-9, '.', '_', '-'");
    expect(fieldErrors(e, ['username', 'password'])).toEqual({ username: "username must be 3-64 of a-z, 0-9, '.', '_', '-'" });
    expect(fieldErrors(problem('', [{ path: '', message: 'email is not an address' }]), ['email'])).toEqual({ email: 'email is not an address' });
  });

  it('leaves what names no field, and non-API errors, to the alert', () => {
    expect(fieldErrors(problem('the user name "x" is taken'), ['username'])).toEqual({});
    expect(fieldErrors(new Error('network'), ['username'])).toEqual({});
  });
});

describe('tokens', () => {
  it('knows revoked, expired and active', () => {
    const now = Date.parse('2030-01-02T00:00:00Z');
    expect(tokenState({ revoked_at: '2030-01-01T00:00:00Z', expires_at: null }, now)).toBe('revoked');
    expect(tokenState({ revoked_at: null, expires_at: '2030-01-01T00:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ revoked_at: null, expires_at: '2030-02-01T00:00:00Z' }, now)).toBe('active');
    expect(tokenState({ revoked_at: null, expires_at: null }, now)).toBe('active');
  });

  it('grants at most the own role', () => {
    expect(grantable('operator', ['viewer', 'operator', 'admin'])).toEqual(['viewer', 'operator']);
    expect(grantable('viewer', ['viewer', 'operator', 'admin'])).toEqual(['viewer']);
  });

  it('builds the body for each lifetime', () => {
    expect(newTokenBody(' ci ', 'viewer', 'default', '')).toEqual({ name: 'ci', role: 'viewer' });
    expect(newTokenBody('ci', 'viewer', '30', '')).toEqual({ name: 'ci', role: 'viewer', expires_in_days: 30 });
    expect(newTokenBody('ci', 'admin', 'never', '')).toEqual({ name: 'ci', role: 'admin', never_expires: true });
    expect(newTokenBody('ci', 'viewer', 'custom', '12')).toEqual({ name: 'ci', role: 'viewer', expires_in_days: 12 });
  });
});

const worker = (id: string, pool: string, over: Partial<Worker> = {}): Worker => ({
  id,
  pool,
  version: '0.1.0',
  concurrency: 4,
  in_flight: 1,
  draining: false,
  started_at: '2030-01-01T00:00:00Z',
  last_heartbeat_at: '2030-01-01T00:00:00Z',
  heartbeat_secs: 10,
  ...over,
});

describe('workers', () => {
  it('groups by pool with the load of the workers taking work', () => {
    const pools = byPool([worker('b', 'default'), worker('x', 'edge'), worker('a', 'default', { draining: true, in_flight: 2 })]);
    expect(pools.map((p) => p.name)).toEqual(['default', 'edge']);
    expect(pools[0]?.workers.map((w) => w.id)).toEqual(['a', 'b']);
    expect(pools[0]).toMatchObject({ inFlight: 3, capacity: 4 });
  });

  it('tells live, late and draining apart', () => {
    const at = Date.parse('2030-01-01T00:00:00Z');
    expect(workerState(worker('a', 'p'), at + 5_000)).toBe('live');
    expect(workerState(worker('a', 'p'), at + 20_000)).toBe('late');
    expect(workerState(worker('a', 'p', { draining: true }), at)).toBe('draining');
  });

  it('bounds the load percentage', () => {
    expect(loadPercent(1, 4)).toBe(25);
    expect(loadPercent(9, 4)).toBe(100);
    expect(loadPercent(0, 0)).toBe(0);
  });
});
