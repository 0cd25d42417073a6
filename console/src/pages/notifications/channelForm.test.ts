import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/types';
import { channelBodyOf, channelFormOf, channelProblems, parseHeaders, testRecipients } from './channelForm';

const mail: Schemas['ChannelView'] = {
  id: 'c1',
  name: 'ops-mail',
  kind: 'email',
  enabled: true,
  allow_steps: false,
  settings: { kind: 'email', host: 'smtp.example.com', port: 587, tls: 'starttls', from: 'ops@example.com', default_to: ['a@example.com', 'b@example.com'], username: 'ops' },
  secrets_set: ['password'],
  max_attempts: 5,
  created_at: '',
  updated_at: '',
  revision: 1,
};

describe('channel bodies', () => {
  it('sends a new email channel with its password', () => {
    const f = { ...channelFormOf(), name: 'm', host: 'smtp', port: '25', tls: 'none' as const, from: 'x@example.com', default_to: 'a@x, b@x', secrets: { password: 'pw' } };
    expect(channelBodyOf(f)).toEqual({
      ok: true,
      body: {
        name: 'm',
        enabled: true,
        allow_steps: false,
        max_attempts: 5,
        rate_limit: null,
        settings: { kind: 'email', host: 'smtp', port: 25, tls: 'none', username: null, from: 'x@example.com', default_to: ['a@x', 'b@x'], timeout_secs: null, ca_pem: null },
        secrets: { password: 'pw' },
      },
    });
  });

  it('keeps stored secrets unless typed or cleared', () => {
    const f = channelFormOf(mail);
    expect(f.default_to).toBe('a@example.com, b@example.com');
    const kept = channelBodyOf(f, mail);
    expect(kept.ok && 'secrets' in kept.body).toBe(false);
    const cleared = channelBodyOf({ ...f, clear: { password: true } }, mail);
    expect(cleared.ok && cleared.body.secrets).toEqual({ password: null });
    const replaced = channelBodyOf({ ...f, secrets: { password: 'new' }, clear: { password: true } }, mail);
    expect(replaced.ok && replaced.body.secrets).toEqual({ password: 'new' });
  });

  it('asks for the secret a Slack or Teams channel cannot work without', () => {
    const slack = { ...channelFormOf(), name: 's', kind: 'slack' as const, mode: 'webhook' as const };
    expect(channelBodyOf(slack)).toEqual({ ok: false, errors: { 'secrets.webhook_url': 'Incoming-webhook URL is required.' } });
    // A kind change starts from no secrets: the stored password does not count.
    const teams = { ...channelFormOf(mail), kind: 'teams' as const };
    expect(channelBodyOf(teams, mail)).toMatchObject({ ok: false, errors: { 'secrets.webhook_url': expect.any(String) } });
    expect(channelBodyOf({ ...teams, secrets: { webhook_url: 'https://x' } }, mail)).toMatchObject({ ok: true, body: { settings: { kind: 'teams' }, secrets: { webhook_url: 'https://x' } } });
  });

  it('reads webhook headers, secret ones write-only', () => {
    expect(parseHeaders('X-Team: ops\n\nX-Env: prod ')).toEqual({ ok: true, headers: { 'X-Team': 'ops', 'X-Env': 'prod' } });
    expect(parseHeaders('nonsense')).toMatchObject({ ok: false, error: expect.stringContaining('Line 1') });
    const f = { ...channelFormOf(), name: 'w', kind: 'webhook' as const, url: 'https://hooks.example.com', secret_headers: 'Authorization: Bearer x' };
    expect(channelBodyOf(f)).toMatchObject({ ok: true, body: { settings: { kind: 'webhook', url: 'https://hooks.example.com', headers: {} }, secrets: { headers: { Authorization: 'Bearer x' } } } });
    expect(channelBodyOf({ ...f, url: '', max_attempts: '11' })).toMatchObject({ ok: false, errors: { url: expect.any(String), max_attempts: '1 to 10.' } });
  });

  it('places the api problems and builds test recipients', () => {
    expect(channelProblems([
      { path: '/settings/from', message: 'not an address' },
      { path: '/secrets/password', message: 'not used' },
      { path: '/name', message: 'taken' },
    ])).toEqual({ from: 'not an address', 'secrets.password': 'not used', name: 'taken' });
    expect(testRecipients('email', 'a@x, b@x')).toEqual([
      { type: 'email', address: 'a@x' },
      { type: 'email', address: 'b@x' },
    ]);
    expect(testRecipients('slack', '#ops U012AB')).toEqual([{ type: 'slack_channel', channel: '#ops U012AB' }]);
    expect(testRecipients('slack', '#ops, U012AB')).toEqual([
      { type: 'slack_channel', channel: '#ops' },
      { type: 'slack_user', user: 'U012AB' },
    ]);
    expect(testRecipients('teams', 'anything')).toEqual([]);
  });
});
