import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/types';
import { createBody, emptyForm, formOf, listOf, updateBody } from './model';

const view = (over: Partial<Schemas['CredentialView']> = {}): Schemas['CredentialView'] => ({
  id: '00000000-0000-0000-0000-000000000001',
  name: 'web',
  description: '',
  type: 'ssh_password',
  public: { username: 'deploy' },
  key_id: 'k1',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  last_used_at: null,
  scope: { hosts: ['*.example.com'], pools: [], tags: [], targets: ['t1'], groups: [] },
  ...over,
});

describe('createBody', () => {
  it('maps an SSH password form to a body with its scope', () => {
    const f = { ...emptyForm('ssh_password'), name: ' web ', values: { username: 'deploy', password: ' s3cret ' }, hosts: '10.0.0.1\n*.example.com', pools: 'a, b' };
    expect(createBody(f).body).toEqual({
      name: 'web',
      description: null,
      scope: { hosts: ['10.0.0.1', '*.example.com'], pools: ['a', 'b'], tags: [], targets: [], groups: [] },
      spec: { type: 'ssh_password', username: 'deploy', password: 's3cret' },
    });
  });
  it('keeps a key exactly, drops empty optionals and names missing fields', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n';
    const ok = createBody({ ...emptyForm('ssh_key'), name: 'k', values: { username: 'u', private_key: key, passphrase: '' } });
    expect(ok.body?.spec).toEqual({ type: 'ssh_key', username: 'u', private_key: key });
    const bad = createBody({ ...emptyForm('ssh_key'), values: { username: '', private_key: '' } });
    expect(bad.body).toBeUndefined();
    expect(Object.keys(bad.errors).sort()).toEqual(['name', 'values.private_key', 'values.username']);
  });
  it('parses numbers and header lines', () => {
    const db = createBody({ ...emptyForm('database'), name: 'db', values: { engine: 'postgres', host: 'h', port: '5432', username: 'u', password: 'p', database: '' } });
    expect(db.body?.spec).toEqual({ type: 'database', engine: 'postgres', host: 'h', port: 5432, username: 'u', password: 'p' });
    const http = createBody({ ...emptyForm('http_auth'), name: 'h', values: { scheme: 'bearer', token: 't', headers: 'X-A: 1\nX-B: two' } });
    expect(http.body?.spec).toEqual({ type: 'http_auth', scheme: 'bearer', token: 't', headers: { 'X-A': '1', 'X-B': 'two' } });
    expect(createBody({ ...emptyForm('database'), name: 'db', values: { engine: 'postgres', host: 'h', port: 'x', username: 'u', password: 'p' } }).errors['values.port']).toBeTruthy();
  });
});

describe('updateBody', () => {
  it('prefills non-secret fields only and keeps secrets when none is typed', () => {
    const f = formOf(view());
    expect(f.values).toEqual({ username: 'deploy', password: '' });
    const r = updateBody({ ...f, description: 'new' }, view());
    expect(r.body).toEqual({
      name: 'web',
      description: 'new',
      scope: { hosts: ['*.example.com'], pools: [], tags: [], targets: ['t1'], groups: [] },
      spec: null,
    });
  });
  it('sends the whole content when a secret is typed, and refuses content changes without it', () => {
    const f = formOf(view());
    expect(updateBody({ ...f, values: { username: 'root', password: 'p2' } }, view()).body?.spec).toEqual({ type: 'ssh_password', username: 'root', password: 'p2' });
    expect(updateBody({ ...f, values: { username: 'root', password: '' } }, view()).errors['values.username']).toMatch(/secrets again/);
  });
  it('splits lists on commas and new lines', () => {
    expect(listOf(' a,b\n\nc , ')).toEqual(['a', 'b', 'c']);
  });
});
