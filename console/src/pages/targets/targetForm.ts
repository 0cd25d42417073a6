// The target form: what a person types, and the `TargetSpec` it becomes.
import type { Schemas } from '../../api/types';

export type Target = Schemas['TargetView'];
export type TargetSpec = Schemas['TargetSpec'];
export type OsType = Schemas['OsType'];

export const OS_TYPES: OsType[] = ['linux', 'windows', 'unix', 'network_device', 'other'];

/** Everything the target form holds, as text. */
export interface TargetForm {
  name: string;
  hostname: string;
  os_type: OsType;
  pool: string;
  enabled: boolean;
  tags: string;
  metadata: string;
  ssh: boolean;
  ssh_port: string;
  ssh_credential: string;
  ssh_policy: Schemas['HostKeyPolicy'];
  ssh_timeout: string;
  winrm: boolean;
  winrm_scheme: Schemas['WinrmScheme'];
  winrm_port: string;
  winrm_credential: string;
  winrm_verify: boolean;
  http: boolean;
  http_base_url: string;
  http_credential: string;
  http_verify: boolean;
}

export type FormErrors = Record<string, string>;

/** A new target's form. */
export function emptyTarget(): TargetForm {
  return {
    name: '',
    hostname: '',
    os_type: 'linux',
    pool: 'default',
    enabled: true,
    tags: '',
    metadata: '',
    ssh: true,
    ssh_port: '22',
    ssh_credential: '',
    ssh_policy: 'strict',
    ssh_timeout: '10',
    winrm: false,
    winrm_scheme: 'https',
    winrm_port: '',
    winrm_credential: '',
    winrm_verify: true,
    http: false,
    http_base_url: '',
    http_credential: '',
    http_verify: true,
  };
}

/** The form of an existing target. */
export function targetFormOf(t: Target): TargetForm {
  const e = emptyTarget();
  const meta = t.metadata && Object.keys(t.metadata).length ? JSON.stringify(t.metadata, null, 2) : '';
  return {
    ...e,
    name: t.name,
    hostname: t.hostname,
    os_type: t.os_type,
    pool: t.pool ?? 'default',
    enabled: t.enabled ?? true,
    tags: (t.tags ?? []).join(', '),
    metadata: meta,
    ssh: Boolean(t.ssh),
    ssh_port: String(t.ssh?.port ?? 22),
    ssh_credential: t.ssh?.credential_id ?? '',
    ssh_policy: t.ssh?.host_key_policy ?? 'strict',
    ssh_timeout: String(t.ssh?.connect_timeout_secs ?? 10),
    winrm: Boolean(t.winrm),
    winrm_scheme: t.winrm?.scheme ?? 'https',
    winrm_port: t.winrm?.port ? String(t.winrm.port) : '',
    winrm_credential: t.winrm?.credential_id ?? '',
    winrm_verify: t.winrm?.verify_tls ?? true,
    http: Boolean(t.http),
    http_base_url: t.http?.base_url ?? '',
    http_credential: t.http?.credential_id ?? '',
    http_verify: t.http?.verify_tls ?? true,
  };
}

function port(v: string, field: string, errors: FormErrors, optional = false): number | null {
  if (!v.trim()) {
    if (!optional) errors[field] = 'A port is required';
    return null;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    errors[field] = 'A number from 1 to 65535';
    return null;
  }
  return n;
}

/** The document of the form, or the problems of its fields. */
export function targetSpecOf(f: TargetForm): { spec?: TargetSpec; errors: FormErrors } {
  const errors: FormErrors = {};
  if (!f.name.trim()) errors.name = 'A name is required';
  if (!f.hostname.trim()) errors.hostname = 'A host name or address is required';
  else if (!/^[A-Za-z0-9._:-]+$/.test(f.hostname.trim())) errors.hostname = 'Letters, digits, ".", "_", ":" and "-" only';
  const tags = f.tags
    .split(/[,\s]+/)
    .map((t) => t.trim())
    .filter(Boolean);
  const badTag = tags.find((t) => !/^[A-Za-z0-9._:=-]{1,64}$/.test(t));
  if (badTag) errors.tags = `"${badTag}" is not a tag (letters, digits, . _ - : =)`;
  let metadata: Record<string, unknown> = {};
  if (f.metadata.trim()) {
    try {
      const v: unknown = JSON.parse(f.metadata);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      metadata = v as Record<string, unknown>;
    } catch {
      errors.metadata = 'Must be a JSON object';
    }
  }
  const spec: TargetSpec = {
    name: f.name.trim(),
    hostname: f.hostname.trim(),
    os_type: f.os_type,
    pool: f.pool.trim() || 'default',
    enabled: f.enabled,
    tags,
    metadata,
    ssh: null,
    winrm: null,
    http: null,
  };
  if (f.ssh) {
    if (!f.ssh_credential) errors.ssh_credential = 'Pick an SSH credential';
    const timeout = Number(f.ssh_timeout || '10');
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 300) errors.ssh_timeout = 'Seconds from 1 to 300';
    spec.ssh = {
      credential_id: f.ssh_credential,
      port: port(f.ssh_port, 'ssh_port', errors) ?? 22,
      host_key_policy: f.ssh_policy,
      connect_timeout_secs: timeout,
    };
  }
  if (f.winrm) {
    if (!f.winrm_credential) errors.winrm_credential = 'Pick a WinRM credential';
    spec.winrm = {
      credential_id: f.winrm_credential,
      scheme: f.winrm_scheme,
      port: port(f.winrm_port, 'winrm_port', errors, true),
      verify_tls: f.winrm_verify,
    };
  }
  if (f.http) {
    if (!/^https?:\/\//.test(f.http_base_url.trim())) errors.http_base_url = 'Starts with http:// or https://';
    spec.http = { base_url: f.http_base_url.trim(), credential_id: f.http_credential || null, verify_tls: f.http_verify };
  }
  return Object.keys(errors).length ? { errors } : { spec, errors };
}

/** Field errors of a 422 (`{field|path, message}`) by form field name. */
export function fieldErrorsOf(errors: unknown): FormErrors {
  const out: FormErrors = {};
  if (!Array.isArray(errors)) return out;
  for (const raw of errors as unknown[]) {
    const e = (raw ?? {}) as { field?: unknown; path?: unknown; message?: unknown };
    const key = String(e.field ?? e.path ?? '')
      .replace(/^\//, '')
      .replace(/[/.]/g, '_')
      .replace(/_credential_id$/, '_credential')
      .replace(/^http_base_url$/, 'http_base_url');
    if (key && typeof e.message === 'string') out[key] = e.message;
  }
  return out;
}
