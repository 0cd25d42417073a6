import { describe, expect, it } from 'vitest';
import { emptyTarget, fieldErrorsOf, targetSpecOf } from './targetForm';

describe('targetSpecOf', () => {
  it('maps an SSH target with tags and metadata', () => {
    const r = targetSpecOf({ ...emptyTarget(), name: ' web1 ', hostname: '10.0.0.5', tags: 'env=prod, web', metadata: '{"rack": 4}', ssh_credential: 'c1', ssh_port: '2222' });
    expect(r.spec).toEqual({
      name: 'web1',
      hostname: '10.0.0.5',
      os_type: 'linux',
      pool: 'default',
      enabled: true,
      tags: ['env=prod', 'web'],
      metadata: { rack: 4 },
      ssh: { credential_id: 'c1', port: 2222, host_key_policy: 'strict', connect_timeout_secs: 10 },
      winrm: null,
      http: null,
    });
  });
  it('names every bad field', () => {
    const r = targetSpecOf({ ...emptyTarget(), hostname: 'bad host', tags: 'ok, b@d', metadata: '[1]', ssh_port: '0', http: true, http_base_url: 'ftp://x' });
    expect(r.spec).toBeUndefined();
    expect(Object.keys(r.errors).sort()).toEqual(['hostname', 'http_base_url', 'metadata', 'name', 'ssh_credential', 'ssh_port', 'tags']);
  });
  it('reads the API field errors by form field', () => {
    expect(fieldErrorsOf([{ field: 'ssh.credential_id', message: 'no such credential' }, { path: '/hostname', message: 'bad' }])).toEqual({
      ssh_credential: 'no such credential',
      hostname: 'bad',
    });
  });
});
