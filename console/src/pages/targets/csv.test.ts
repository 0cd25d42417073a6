import { describe, expect, it } from 'vitest';
import { csvObjects, parseCsv } from './csv';
import { rowErrors } from './rowErrors';

describe('parseCsv', () => {
  it('reads plain rows with a header', () => {
    expect(parseCsv('name,hostname\na,h1\nb,h2\n')).toEqual({ header: ['name', 'hostname'], rows: [['a', 'h1'], ['b', 'h2']] });
  });
  it('keeps commas, doubled quotes and new lines inside quotes', () => {
    const csv = parseCsv('name,metadata\n"a,b","{""k"": 1}"\n"multi\nline",x');
    expect(csv.rows).toEqual([
      ['a,b', '{"k": 1}'],
      ['multi\nline', 'x'],
    ]);
  });
  it('takes CRLF, a BOM, blank lines and empty cells', () => {
    const csv = parseCsv('\uFEFFname,tags\r\na,\r\n\r\n,"x;y"\r\n');
    expect(csv.header).toEqual(['name', 'tags']);
    expect(csv.rows).toEqual([
      ['a', ''],
      ['', 'x;y'],
    ]);
    expect(csvObjects(csv)).toEqual([
      { name: 'a', tags: '' },
      { name: '', tags: 'x;y' },
    ]);
  });
  it('refuses an unterminated quote', () => {
    expect(() => parseCsv('name\n"open')).toThrow(/not closed/);
  });
});

describe('rowErrors', () => {
  it('maps row errors and pointer paths to rows', () => {
    const m = rowErrors([
      { row: 2, field: 'hostname', message: 'bad host' },
      { row: 2, field: 'os_type', message: 'bad os' },
      { path: '/0/name', message: 'taken' },
      { path: '', message: 'general' },
      'junk',
    ]);
    expect(m.get(2)).toEqual([
      { field: 'hostname', message: 'bad host' },
      { field: 'os_type', message: 'bad os' },
    ]);
    expect(m.get(1)).toEqual([{ field: 'name', message: 'taken' }]);
    expect(m.get(0)).toEqual([{ field: '', message: 'general' }]);
    expect(rowErrors(undefined).size).toBe(0);
  });
});
