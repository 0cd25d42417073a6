import { describe, expect, it } from 'vitest';
import { exportQuery, filtersOf, pageOf, searchOf, summaryText } from './audit';

describe('audit filters', () => {
  it('reads the URL, dropping blanks, bad times and bad offsets', () => {
    const f = filtersOf(new URLSearchParams('actor=ann&action=&since=yesterday&until=2030-01-01T00:00:00Z&offset=-5&entity_type=user'));
    expect(f).toEqual({ actor: 'ann', entity_type: 'user', until: '2030-01-01T00:00:00Z' });
    expect(filtersOf(new URLSearchParams('offset=50')).offset).toBe(50);
    expect(filtersOf(new URLSearchParams('offset=2.5')).offset).toBeUndefined();
  });

  it('round-trips through the URL', () => {
    const f = { actor: 'ann', action: 'user.create', outcome: 'success', since: '2030-01-01T00:00:00.000Z', offset: 100 };
    expect(filtersOf(searchOf(f))).toEqual(f);
    expect(searchOf({ actor: '  ', offset: 0 }).toString()).toBe('');
  });

  it('exports without paging, in the asked format', () => {
    expect(exportQuery({ action: 'user.create', offset: 50 }, 'csv')).toEqual({ action: 'user.create', format: 'csv' });
    expect(exportQuery({}, 'json')).toEqual({ format: 'json' });
  });
});

describe('paging', () => {
  it('places a middle page', () => {
    expect(pageOf(50, 50, 50, 240)).toEqual({ from: 51, to: 100, total: 240, prev: 0, next: 100 });
  });
  it('has no next on the last page and no previous on the first', () => {
    expect(pageOf(200, 50, 40, 240)).toMatchObject({ from: 201, to: 240, next: null, prev: 150 });
    expect(pageOf(0, 50, 0, 0)).toEqual({ from: 0, to: 0, total: 0, prev: null, next: null });
  });
});

describe('summaryText', () => {
  it('indents objects and marks a missing summary', () => {
    expect(summaryText({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(summaryText(null)).toBe('—');
  });
});
