// Credential forms as data: each type's fields, and the mapping of what the
// user typed to the API's bodies. Secrets are write-only: never prefilled,
// and on edit the content is only sent when a secret was typed again
// (the API replaces the whole content, so leaving every secret empty keeps
// the stored one).
import type { Schemas } from '../../api/types';

export type CredentialType = Schemas['CredentialSpec']['type'];

export interface FieldDef {
  name: string;
  label: string;
  kind: 'text' | 'number' | 'select' | 'textarea';
  /** Write-only: sent, never shown again. */
  secret?: boolean;
  required?: boolean;
  options?: string[];
  hint?: string;
}

const opt = (values: string[]) => values;

/** The fields of each credential type, in form order. */
export const TYPES: Record<CredentialType, { label: string; fields: FieldDef[] }> = {
  ssh_password: {
    label: 'SSH password',
    fields: [
      { name: 'username', label: 'User name', kind: 'text', required: true },
      { name: 'password', label: 'Password', kind: 'text', secret: true, required: true },
    ],
  },
  ssh_key: {
    label: 'SSH private key',
    fields: [
      { name: 'username', label: 'User name', kind: 'text', required: true },
      { name: 'private_key', label: 'Private key', kind: 'textarea', secret: true, required: true, hint: 'OpenSSH or PEM (RSA, Ed25519, ECDSA).' },
      { name: 'passphrase', label: 'Passphrase', kind: 'text', secret: true, hint: 'Only when the key is encrypted.' },
    ],
  },
  winrm: {
    label: 'WinRM',
    fields: [
      { name: 'username', label: 'User name', kind: 'text', required: true },
      { name: 'password', label: 'Password', kind: 'text', secret: true, required: true },
      { name: 'auth', label: 'Authentication', kind: 'select', required: true, options: opt(['ntlm', 'basic', 'kerberos']) },
      { name: 'domain', label: 'Domain', kind: 'text' },
    ],
  },
  http_auth: {
    label: 'HTTP authentication',
    fields: [
      { name: 'scheme', label: 'Scheme', kind: 'select', required: true, options: opt(['bearer', 'basic', 'api_key']) },
      { name: 'username', label: 'User name (basic)', kind: 'text' },
      { name: 'password', label: 'Password (basic)', kind: 'text', secret: true },
      { name: 'token', label: 'Token or API key', kind: 'text', secret: true },
      { name: 'header', label: 'API key header', kind: 'text', hint: 'For api_key, e.g. X-API-Key.' },
      { name: 'headers', label: 'Extra headers', kind: 'textarea', secret: true, hint: 'One "Name: value" a line.' },
    ],
  },
  database: {
    label: 'Database login',
    fields: [
      { name: 'engine', label: 'Engine', kind: 'select', required: true, options: opt(['postgres', 'mysql', 'mariadb', 'mssql', 'oracle', 'mongodb', 'redis']) },
      { name: 'host', label: 'Host', kind: 'text', required: true },
      { name: 'port', label: 'Port', kind: 'number', required: true },
      { name: 'database', label: 'Database', kind: 'text' },
      { name: 'username', label: 'User name', kind: 'text', required: true },
      { name: 'password', label: 'Password', kind: 'text', secret: true, required: true },
    ],
  },
  certificate: {
    label: 'TLS client certificate',
    fields: [
      { name: 'certificate', label: 'Certificate (PEM)', kind: 'textarea', required: true },
      { name: 'private_key', label: 'Private key (PEM)', kind: 'textarea', secret: true, required: true },
      { name: 'passphrase', label: 'Key passphrase', kind: 'text', secret: true },
      { name: 'ca', label: 'CA chain (PEM)', kind: 'textarea' },
    ],
  },
  snmp: {
    label: 'SNMP',
    fields: [
      { name: 'version', label: 'Version', kind: 'select', required: true, options: opt(['v2c', 'v1', 'v3']) },
      { name: 'community', label: 'Community (v1/v2c)', kind: 'text', secret: true },
      { name: 'username', label: 'User (v3)', kind: 'text' },
      { name: 'auth_protocol', label: 'Auth protocol (v3)', kind: 'select', options: opt(['', 'sha', 'sha224', 'sha256', 'sha384', 'sha512', 'md5']) },
      { name: 'auth_password', label: 'Auth password (v3)', kind: 'text', secret: true },
      { name: 'privacy_protocol', label: 'Privacy protocol (v3)', kind: 'select', options: opt(['', 'aes', 'aes192', 'aes256', 'des']) },
      { name: 'privacy_password', label: 'Privacy password (v3)', kind: 'text', secret: true },
    ],
  },
};

/** Everything the credential form holds. */
export interface CredentialForm {
  name: string;
  description: string;
  type: CredentialType;
  /** Field values by field name (secrets included, never prefilled). */
  values: Record<string, string>;
  /** Scope: one entry a line or comma-separated. */
  hosts: string;
  pools: string;
  tags: string;
}

/** A field's problem, keyed by field name (`values.<name>` for content). */
export type FormErrors = Record<string, string>;

/** Splits a list typed by a person: commas or new lines. */
export function listOf(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function defaults(type: CredentialType): Record<string, string> {
  const values: Record<string, string> = {};
  for (const f of TYPES[type].fields) values[f.name] = f.kind === 'select' ? (f.options?.[0] ?? '') : '';
  if (type === 'database') values.port = '5432';
  return values;
}

/** An empty form of `type`. */
export function emptyForm(type: CredentialType = 'ssh_password'): CredentialForm {
  return { name: '', description: '', type, values: defaults(type), hosts: '', pools: '', tags: '' };
}

/** The form for editing `c`: its non-secret fields, secrets empty. */
export function formOf(c: Schemas['CredentialView']): CredentialForm {
  const type = (c.type in TYPES ? c.type : 'ssh_password') as CredentialType;
  const values = defaults(type);
  const pub = (c.public ?? {}) as Record<string, unknown>;
  for (const f of TYPES[type].fields) {
    if (f.secret) continue;
    const v = pub[f.name];
    if (typeof v === 'string' || typeof v === 'number') values[f.name] = String(v);
  }
  return {
    name: c.name,
    description: c.description,
    type,
    values,
    hosts: (c.scope.hosts ?? []).join('\n'),
    pools: (c.scope.pools ?? []).join('\n'),
    tags: (c.scope.tags ?? []).join('\n'),
  };
}

function headersOf(text: string, errors: FormErrors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    if (i <= 0) {
      errors['values.headers'] = `"${line.trim()}" is not "Name: value"`;
      continue;
    }
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** The content (`spec`) of the form, or the problems of its fields. */
export function specOf(form: CredentialForm): { spec?: Schemas['CredentialSpec']; errors: FormErrors } {
  const errors: FormErrors = {};
  const spec: Record<string, unknown> = { type: form.type };
  for (const f of TYPES[form.type].fields) {
    const raw = form.values[f.name] ?? '';
    // Keys and certificates keep their exact text; everything else is trimmed.
    const v = f.kind === 'textarea' ? raw : raw.trim();
    if (!v.trim()) {
      if (f.required) errors[`values.${f.name}`] = `${f.label} is required`;
      continue;
    }
    if (f.name === 'headers') spec.headers = headersOf(v, errors);
    else if (f.kind === 'number') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 65535) errors[`values.${f.name}`] = `${f.label} must be a number from 1 to 65535`;
      else spec[f.name] = n;
    } else spec[f.name] = v;
  }
  return Object.keys(errors).length ? { errors } : { spec: spec as Schemas['CredentialSpec'], errors };
}

function scopeOf(form: CredentialForm, keep?: Schemas['CredentialScope']): Schemas['CredentialScope'] {
  return {
    hosts: listOf(form.hosts),
    pools: listOf(form.pools),
    tags: listOf(form.tags),
    // Not edited here: kept as they were.
    targets: keep?.targets ?? [],
    groups: keep?.groups ?? [],
  };
}

function checkName(form: CredentialForm, errors: FormErrors) {
  if (!form.name.trim()) errors.name = 'Name is required';
  else if (form.name.trim().length > 100) errors.name = 'At most 100 characters';
}

/** `POST /api/v1/credentials` of the form, or its problems. */
export function createBody(form: CredentialForm): { body?: Schemas['NewCredential']; errors: FormErrors } {
  const { spec, errors } = specOf(form);
  checkName(form, errors);
  if (!spec || Object.keys(errors).length) return { errors };
  return {
    body: { name: form.name.trim(), description: form.description.trim() || null, scope: scopeOf(form), spec },
    errors,
  };
}

/** Whether any secret field holds something. */
export function secretsTyped(form: CredentialForm): boolean {
  return TYPES[form.type].fields.some((f) => f.secret && (form.values[f.name] ?? '').trim() !== '');
}

/** `PUT /api/v1/credentials/{id}` of the form: the content only when a
 * secret was typed again (all of it then), or its problems. */
export function updateBody(
  form: CredentialForm,
  original: Schemas['CredentialView'],
): { body?: Schemas['CredentialUpdate']; errors: FormErrors } {
  const errors: FormErrors = {};
  checkName(form, errors);
  const body: Schemas['CredentialUpdate'] = {
    name: form.name.trim(),
    description: form.description.trim(),
    scope: scopeOf(form, original.scope),
    spec: null,
  };
  if (secretsTyped(form)) {
    const s = specOf(form);
    Object.assign(errors, s.errors);
    body.spec = s.spec ?? null;
  } else {
    const before = formOf(original).values;
    const changed = TYPES[form.type].fields.find((f) => !f.secret && (form.values[f.name] ?? '') !== (before[f.name] ?? ''));
    if (changed) errors[`values.${changed.name}`] = 'To change the content, type its secrets again';
  }
  return Object.keys(errors).length ? { errors } : { body, errors };
}
