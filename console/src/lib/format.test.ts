import { describe, expect, it } from 'vitest';
import { between, duration, relative, shortId } from './format';

describe('duration', () => {
  it('reads at every scale', () => {
    expect(duration(850)).toBe('850 ms');
    expect(duration(3_000)).toBe('3s');
    expect(duration(184_000)).toBe('3m 04s');
    expect(duration(3_720_000)).toBe('1h 02m');
    expect(duration(50 * 3_600_000)).toBe('2d 2h');
    expect(duration(null)).toBe('—');
  });
});

describe('relative and between', () => {
  it('speak of past and future', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(relative('2026-01-01T11:57:00Z', now)).toBe('3 minutes ago');
    expect(relative('2026-01-01T14:00:00Z', now)).toBe('in 2 hours');
    expect(relative(undefined, now)).toBe('—');
    expect(between('2026-01-01T11:57:00Z', '2026-01-01T12:00:00Z')).toBe(180_000);
    expect(shortId('0191c7a2-0c1d-7e2f-8a3b-4c5d6e7f8a9b')).toBe('6e7f8a9b');
  });
});
