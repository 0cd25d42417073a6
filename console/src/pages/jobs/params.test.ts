import { describe, expect, it } from 'vitest';
import { initialValues, parameterErrors, toParameters, type ParamSpec } from './params';

const specs: Record<string, ParamSpec> = {
  host: { type: 'string', required: true },
  note: { type: 'string' },
  count: { type: 'int', required: true, default: 3 },
  retries: { type: 'int' },
  dry: { type: 'bool', default: true },
  mode: { type: 'enum', choices: ['fast', 'safe'], required: true },
  zones: { type: 'multi_select', choices: ['a', 'b'] },
  token: { type: 'secret', required: true, default: 'never-shown' },
  code: { type: 'string', pattern: '[a-z]+' },
};

describe('initialValues', () => {
  it('shows defaults, never a secret', () => {
    expect(initialValues(specs)).toEqual({
      host: '',
      note: '',
      count: '3',
      retries: '',
      dry: true,
      mode: '',
      zones: [],
      token: '',
      code: '',
    });
  });
});

describe('toParameters', () => {
  it('converts to the declared types', () => {
    const r = toParameters(specs, {
      ...initialValues(specs),
      host: 'web-1',
      count: ' 12 ',
      retries: '-2',
      dry: false,
      mode: 'safe',
      zones: ['b'],
      token: 's3cret ',
      code: 'abc',
    });
    expect(r.errors).toEqual({});
    expect(r.parameters).toEqual({ host: 'web-1', count: 12, retries: -2, dry: false, mode: 'safe', zones: ['b'], token: 's3cret ', code: 'abc' });
  });

  it('leaves out empty optional fields and those with defaults', () => {
    const r = toParameters(specs, { ...initialValues(specs), host: 'h', count: '', mode: 'fast' });
    expect(r.errors).toEqual({});
    expect(r.parameters).toEqual({ host: 'h', dry: true, mode: 'fast' });
  });

  it('names each bad field', () => {
    const r = toParameters(specs, { ...initialValues(specs), count: '1.5', retries: 'x', mode: 'other', zones: ['c'], code: 'ABC' });
    expect(r.errors).toEqual({
      host: 'Required.',
      count: 'Must be a whole number.',
      retries: 'Must be a whole number.',
      mode: 'Choose one of the choices.',
      zones: 'Not one of the choices: c',
      code: 'Must match [a-z]+.',
    });
    expect(r.parameters).toEqual({ dry: true });
  });

  it('refuses integers beyond what JSON carries exactly', () => {
    expect(toParameters({ n: { type: 'int' } }, { n: '9007199254740993' }).errors).toEqual({ n: 'Must be a whole number.' });
  });

  it('wants a choice of a required multi-select', () => {
    expect(toParameters({ z: { type: 'multi_select', choices: ['a'], required: true } }, { z: [] }).errors).toEqual({ z: 'Choose at least one.' });
  });
});

describe('parameterErrors', () => {
  it('maps /parameters/<name> paths to fields', () => {
    const r = parameterErrors([
      { path: '/parameters/count', message: 'not an integer' },
      { path: '/parameters/a~1b', message: 'bad' },
      { path: '/targets/targets/0', message: 'unknown target' },
    ]);
    expect(r.byName).toEqual({ count: 'not an integer', 'a/b': 'bad' });
    expect(r.rest).toEqual([{ path: '/targets/targets/0', message: 'unknown target' }]);
  });
});
