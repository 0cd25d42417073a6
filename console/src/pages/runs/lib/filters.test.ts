import { describe, expect, it } from 'vitest';
import { filtersOf, pagesFor, paramsOf, runsQuery } from './filters';

const JOB = '0191c7a2-aaaa-4bbb-8ccc-123456789abc';

describe('filters in the URL', () => {
  it('keeps what the API accepts and drops the rest', () => {
    const sp = new URLSearchParams({ job: JOB, status: 'failed', trigger: 'nonsense', target: 'not-a-uuid', since: '2026-01-02T03:04:05Z', until: 'yesterday' });
    expect(filtersOf(sp)).toEqual({ job: JOB, status: 'failed', since: '2026-01-02T03:04:05.000Z' });
  });

  it('round-trips through the search params', () => {
    const f = { job: JOB, trigger: 'schedule', since: '2026-01-02T03:04:05.000Z' };
    expect(filtersOf(paramsOf(f))).toEqual(f);
    expect(paramsOf({ status: '' }).toString()).toBe('');
  });
});

describe('the API query', () => {
  it('renames the filters and ends at the snapshot', () => {
    const q = runsQuery({ job: JOB, target: JOB, status: 'running' }, '2026-01-02T00:00:00.000Z', 100, 50);
    expect(q).toEqual({ limit: 50, offset: 100, job_id: JOB, target_id: JOB, status: 'running', until: '2026-01-02T00:00:00.000Z' });
  });

  it('keeps an earlier `until` of the user', () => {
    expect(runsQuery({ until: '2025-01-01T00:00:00.000Z' }, '2026-01-02T00:00:00.000Z', 0, 50).until).toBe('2025-01-01T00:00:00.000Z');
    expect(runsQuery({ until: '2027-01-01T00:00:00.000Z' }, '2026-01-02T00:00:00.000Z', 0, 50).until).toBe('2026-01-02T00:00:00.000Z');
  });
});

describe('pages of a visible range', () => {
  it('covers the rows with whole pages', () => {
    expect(pagesFor(0, 10, 100)).toEqual([0]);
    expect(pagesFor(95, 205, 100)).toEqual([0, 1, 2]);
    expect(pagesFor(5, 4, 100)).toEqual([]);
  });
});
