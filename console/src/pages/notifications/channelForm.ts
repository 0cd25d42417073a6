// The channel form, by kind: public settings in the clear, secrets
// write-only (empty keeps the stored value, "clear" removes it), and the
// body of `POST`/`PUT`.
import type { Schemas } from '../../api/types';

type Channel = Schemas['ChannelView'];
/** The body as sent: `secrets` omitted keeps the stored ones. */
export type Body = Omit<Schemas['ChannelBody'], 'secrets'> & { secrets?: Schemas['ChannelBody']['secrets'] };
export type Kind = Schemas['ChannelKind'];
export type SecretName = 'password' | 'token' | 'webhook_url' | 'signing_secret';

export const KINDS: { value: Kind; label: string }[] = [
  { value: 'email', label: 'Email (SMTP)' },
  { value: 'slack', label: 'Slack' },
  { value: 'teams', label: 'Microsoft Teams' },
  { value: 'webhook', label: 'Webhook (signed JSON)' },
];

export interface ChannelForm {
  name: string;
  enabled: boolean;
  allow_steps: boolean;
  max_attempts: string;
  per_minute: string;
  kind: Kind;
  host: string;
  port: string;
  tls: 'starttls' | 'implicit' | 'none';
  username: string;
  from: string;
  default_to: string;
  timeout_secs: string;
  ca_pem: string;
  mode: 'bot' | 'webhook';
  default_channel: string;
  api_url: string;
  url: string;
  /** `Name: value` lines. */
  headers: string;
  /** New secret values; empty keeps the stored one. */
  secrets: Partial<Record<SecretName, string>>;
  /** Secrets to remove. */
  clear: Partial<Record<SecretName, boolean>>;
  /** Secret header lines; non-empty replaces every secret header. */
  secret_headers: string;
  clear_headers: boolean;
}

/** The secrets a kind (and Slack mode) uses. */
export function secretsOf(kind: Kind, mode: 'bot' | 'webhook'): SecretName[] {
  switch (kind) {
    case 'email':
      return ['password'];
    case 'slack':
      return mode === 'bot' ? ['token'] : ['webhook_url'];
    case 'teams':
      return ['webhook_url'];
    default:
      return ['signing_secret'];
  }
}

export const SECRET_LABELS: Record<SecretName, string> = {
  password: 'SMTP password',
  token: 'Bot token (xoxb-…)',
  webhook_url: 'Incoming-webhook URL',
  signing_secret: 'Signing secret (HMAC-SHA256)',
};

export function channelFormOf(c?: Channel): ChannelForm {
  const s = c?.settings;
  return {
    name: c?.name ?? '',
    enabled: c?.enabled ?? true,
    allow_steps: c?.allow_steps ?? false,
    max_attempts: String(c?.max_attempts ?? 5),
    per_minute: c?.rate_limit ? String(c.rate_limit.per_minute) : '',
    kind: c?.kind ?? 'email',
    host: s?.kind === 'email' ? s.host : '',
    port: s?.kind === 'email' ? String(s.port) : '587',
    tls: s?.kind === 'email' ? s.tls : 'starttls',
    username: s?.kind === 'email' ? (s.username ?? '') : '',
    from: s?.kind === 'email' ? s.from : '',
    default_to: s?.kind === 'email' ? (s.default_to ?? []).join(', ') : '',
    timeout_secs: s?.kind === 'email' && s.timeout_secs ? String(s.timeout_secs) : '',
    ca_pem: s?.kind === 'email' ? (s.ca_pem ?? '') : '',
    mode: s?.kind === 'slack' ? s.mode : 'bot',
    default_channel: s?.kind === 'slack' ? (s.default_channel ?? '') : '',
    api_url: s?.kind === 'slack' ? (s.api_url ?? '') : '',
    url: s?.kind === 'webhook' ? s.url : '',
    headers: s?.kind === 'webhook' ? Object.entries(s.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n') : '',
    secrets: {},
    clear: {},
    secret_headers: '',
    clear_headers: false,
  };
}

/** `Name: value` lines as a map; an error names the first bad line. */
export function parseHeaders(text: string): { ok: true; headers: Record<string, string> } | { ok: false; error: string } {
  const headers: Record<string, string> = {};
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const at = line.indexOf(':');
    if (at <= 0) return { ok: false, error: `Line ${i + 1}: write "Name: value".` };
    headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return { ok: true, headers };
}

/** Comma- or line-separated addresses. */
export const splitList = (text: string) =>
  text
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean);

function settingsOf(f: ChannelForm, errors: Record<string, string>): Body['settings'] | null {
  switch (f.kind) {
    case 'email': {
      const port = Number(f.port);
      if (!f.host.trim()) errors.host = 'The SMTP host is required.';
      if (!/^\d+$/.test(f.port.trim()) || port < 1 || port > 65535) errors.port = 'A port, 1 to 65535.';
      if (!f.from.trim()) errors.from = 'The From address is required.';
      if (f.timeout_secs.trim() && !/^\d+$/.test(f.timeout_secs.trim())) errors.timeout_secs = 'Whole seconds.';
      return {
        kind: 'email',
        host: f.host.trim(),
        port,
        tls: f.tls,
        username: f.username.trim() || null,
        from: f.from.trim(),
        default_to: splitList(f.default_to),
        timeout_secs: f.timeout_secs.trim() ? Number(f.timeout_secs) : null,
        ca_pem: f.ca_pem.trim() || null,
      };
    }
    case 'slack':
      return { kind: 'slack', mode: f.mode, default_channel: f.default_channel.trim() || null, api_url: f.api_url.trim() || null };
    case 'teams':
      return { kind: 'teams' };
    default: {
      if (!f.url.trim()) errors.url = 'The URL is required.';
      const h = parseHeaders(f.headers);
      if (!h.ok) errors.headers = h.error;
      return { kind: 'webhook', url: f.url.trim(), headers: h.ok ? h.headers : {} };
    }
  }
}

export type BuiltChannel = { ok: true; body: Body } | { ok: false; errors: Record<string, string> };

/** The body; `original` decides which secrets are kept (none when the kind changed). */
export function channelBodyOf(f: ChannelForm, original?: Channel): BuiltChannel {
  const errors: Record<string, string> = {};
  if (!f.name.trim()) errors.name = 'A name is required.';
  const attempts = Number(f.max_attempts);
  if (!/^\d+$/.test(f.max_attempts.trim()) || attempts < 1 || attempts > 10) errors.max_attempts = '1 to 10.';
  const rate = f.per_minute.trim() ? Number(f.per_minute) : null;
  if (rate !== null && (!Number.isInteger(rate) || rate < 1 || rate > 10000)) errors.per_minute = '1 to 10,000, or empty for no limit.';
  const settings = settingsOf(f, errors);
  const fresh = !original || original.kind !== f.kind;
  const stored = fresh ? [] : (original.secrets_set ?? []);
  const secrets: Record<string, unknown> = {};
  for (const name of secretsOf(f.kind, f.mode)) {
    const v = f.secrets[name] ?? '';
    if (v) secrets[name] = v;
    else if (f.clear[name] && stored.includes(name)) secrets[name] = null;
  }
  // Secrets of another Slack mode go when the mode changes.
  if (!fresh && original.settings.kind === 'slack' && f.kind === 'slack' && original.settings.mode !== f.mode) {
    for (const name of secretsOf('slack', original.settings.mode)) if (stored.includes(name)) secrets[name] = null;
  }
  if (f.kind === 'webhook') {
    if (f.secret_headers.trim()) {
      const h = parseHeaders(f.secret_headers);
      if (h.ok) secrets.headers = h.headers;
      else errors.secret_headers = h.error;
    } else if (f.clear_headers) {
      secrets.headers = {};
    }
  }
  const required = f.kind === 'teams' || f.kind === 'slack';
  if (required) {
    const need = secretsOf(f.kind, f.mode)[0] as SecretName;
    const has = (stored.includes(need) && secrets[need] !== null) || Boolean(f.secrets[need]);
    if (!has) errors[`secrets.${need}`] = `${SECRET_LABELS[need]} is required.`;
  }
  if (Object.keys(errors).length > 0 || !settings) return { ok: false, errors };
  const body: Body = {
    name: f.name.trim(),
    enabled: f.enabled,
    allow_steps: f.allow_steps,
    max_attempts: attempts,
    rate_limit: rate === null ? null : { per_minute: rate },
    settings,
  };
  if (Object.keys(secrets).length > 0) body.secrets = secrets as Body['secrets'];
  return { ok: true, body };
}

/** The api's problems by form field (`/settings/from` → `from`, `/secrets/password` → `secrets.password`). */
export function channelProblems(errors: { path: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of errors) {
    const parts = e.path.split('/').filter(Boolean);
    let k = parts[0] ?? '';
    if (k === 'settings') k = parts[1] ?? 'kind';
    else if (k === 'secrets') k = parts[1] === 'headers' ? 'secret_headers' : `secrets.${parts[1] ?? ''}`;
    else if (k === 'rate_limit') k = 'per_minute';
    out[k] = out[k] ? `${out[k]} ${e.message}` : e.message;
  }
  return out;
}

/** Test recipients typed for a kind: addresses for email, `#channel` or `U…` for Slack. */
export function testRecipients(kind: Kind, text: string): Schemas['Recipient'][] {
  const list = splitList(text);
  if (kind === 'email') return list.map((address) => ({ type: 'email', address }));
  if (kind === 'slack') return list.map((t) => (/^U[A-Z0-9]+$/.test(t) ? { type: 'slack_user', user: t } : { type: 'slack_channel', channel: t }));
  return [];
}
