import { describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from './localInput';

describe('datetime-local values', () => {
  it('round-trip a local minute', () => {
    const iso = fromLocalInput('2031-05-06T07:08');
    expect(iso).toMatch(/Z$/);
    expect(toLocalInput(iso)).toBe('2031-05-06T07:08');
    expect(toLocalInput(fromLocalInput('2026-03-04T05:06'))).toBe('2026-03-04T05:06');
  });

  it('take the seconds a field may carry', () => {
    expect(fromLocalInput('2031-05-06T07:08:09')).toBe(new Date(2031, 4, 6, 7, 8, 9).toISOString());
  });

  it('read local time, not UTC', () => {
    expect(fromLocalInput('2031-05-06T07:08')).toBe(new Date(2031, 4, 6, 7, 8).toISOString());
    const at = new Date(2031, 0, 2, 3, 4).toISOString();
    expect(toLocalInput(at)).toBe('2031-01-02T03:04');
  });

  it('treat blank and nonsense as no bound', () => {
    expect(fromLocalInput('')).toBeUndefined();
    expect(fromLocalInput('tomorrow')).toBeUndefined();
    expect(fromLocalInput('2031-05-06')).toBeUndefined();
    expect(fromLocalInput('2031-13-45T99:99')).toBeUndefined();
    expect(toLocalInput(undefined)).toBe('');
    expect(toLocalInput('garbage')).toBe('');
  });
});
