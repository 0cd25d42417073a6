import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import { ApiError } from '../../api/errors';
import { useSession } from '../../auth/session';
import { useEditorForm } from '../../lib/editor';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextArea, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { channelBodyOf, channelFormOf, channelProblems, KINDS, SECRET_LABELS, secretsOf, type ChannelForm, type Kind, type SecretName } from './channelForm';
import { channelPath, fetchChannel, keys, type Channel } from './queries';
import { TestDialog } from './TestDialog';

/** `/notifications/channels/new` and `/notifications/channels/:id/edit` (admins). */
export function ChannelEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.channel(id ?? ''), queryFn: () => fetchChannel(id ?? ''), enabled: Boolean(id) });
  if (id && q.isPending) return <Loading what="the channel" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  return <Editor key={`${id ?? 'new'}-${q.data?.revision ?? 0}`} original={id ? q.data : undefined} />;
}

/** A write-only secret: never shown; empty keeps the stored value. */
function SecretField({ name, stored, value, clear, error, onValue, onClear }: {
  name: SecretName;
  stored: boolean;
  value: string;
  clear: boolean;
  error?: string;
  onValue: (v: string) => void;
  onClear: (c: boolean) => void;
}) {
  return (
    <div>
      <TextField
        label={SECRET_LABELS[name]}
        type="password"
        autoComplete="new-password"
        value={value}
        onChange={(e) => onValue(e.target.value)}
        error={error}
        hint={stored ? <span className="ntf-secret-set">Set. Leave empty to keep it; type to replace it.</span> : 'Write-only: never shown again.'}
      />
      {stored && <CheckboxField label={`Clear the stored ${name.replace('_', ' ').replace('url', 'URL')}`} checked={clear} disabled={Boolean(value)} onChange={(e) => onClear(e.target.checked)} />}
    </div>
  );
}

function Editor({ original }: { original?: Channel }) {
  useTitle(original ? `Edit ${original.name}` : 'New channel');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { form, set, errors, submitWith, leave } = useEditorForm(() => channelFormOf(original));
  const [testing, setTesting] = useState(false);
  const save = useMutation({
    mutationFn: (body: unknown) => (original ? api.put<Channel>(channelPath(original.id), body) : api.post<Channel>('/api/v1/notifications/channels', body)),
    onSuccess: async (c) => {
      await qc.invalidateQueries({ queryKey: keys.channels });
      if (original) leave('/notifications/channels');
      else leave(`/notifications/channels/${c.id}/edit`);
    },
  });
  const api422 = save.error instanceof ApiError ? channelProblems(save.error.fieldErrors) : {};
  const err = (k: string) => errors[k] ?? api422[k];
  const stored = original && original.kind === form.kind ? original.secrets_set : [];
  const submit = submitWith(save, () => channelBodyOf(form, original));
  if (!can('admin')) return <ProblemAlert error={new Error('Only admins change channels.')} title="Not allowed" />;
  const secret = (name: SecretName) => (
    <SecretField
      key={name}
      name={name}
      stored={stored.includes(name)}
      value={form.secrets[name] ?? ''}
      clear={form.clear[name] ?? false}
      error={err(`secrets.${name}`)}
      onValue={(v) => set({ secrets: { ...form.secrets, [name]: v } })}
      onClear={(c) => set({ clear: { ...form.clear, [name]: c } })}
    />
  );
  return (
    <>
      <PageHeader
        title={original ? `Edit ${original.name}` : 'New channel'}
        actions={original && <Button onClick={() => setTesting(true)}>Test</Button>}
      />
      {save.isSuccess && (
        <div className="alert alert-info" role="status">
          Saved.
        </div>
      )}
      <form className="form card ntf-form" onSubmit={submit} noValidate>
        <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={err('name')} required maxLength={100} />
        <SelectField label="Kind" value={form.kind} onChange={(e) => set({ kind: e.target.value as Kind })} options={KINDS} hint={original && original.kind !== form.kind ? 'A new kind starts without secrets.' : undefined} />
        <fieldset>
          <legend>Settings</legend>
          {form.kind === 'email' && (
            <>
              <TextField label="SMTP host" value={form.host} onChange={(e) => set({ host: e.target.value })} error={err('host')} />
              <TextField label="Port" inputMode="numeric" value={form.port} onChange={(e) => set({ port: e.target.value })} error={err('port')} />
              <SelectField
                label="Transport security"
                value={form.tls}
                onChange={(e) => set({ tls: e.target.value as ChannelForm['tls'] })}
                error={err('tls')}
                options={[
                  { value: 'starttls', label: 'STARTTLS (required)' },
                  { value: 'implicit', label: 'TLS from the start (SMTPS)' },
                  { value: 'none', label: 'none (a trusted relay only)' },
                ]}
              />
              <TextField label="User name" hint="Empty: no authentication." value={form.username} onChange={(e) => set({ username: e.target.value })} error={err('username')} autoComplete="off" />
              {secret('password')}
              <TextField label="From" placeholder="OpsConductor <ops@example.com>" value={form.from} onChange={(e) => set({ from: e.target.value })} error={err('from')} />
              <TextField label="Default recipients" hint="Comma-separated addresses, used when a rule names no one." value={form.default_to} onChange={(e) => set({ default_to: e.target.value })} error={err('default_to')} />
              <TextField label="Timeout (seconds)" inputMode="numeric" hint="Empty: 30." value={form.timeout_secs} onChange={(e) => set({ timeout_secs: e.target.value })} error={err('timeout_secs')} />
              <TextArea label="Extra CA certificate (PEM)" hint="For a private relay; empty: the system's." value={form.ca_pem} onChange={(e) => set({ ca_pem: e.target.value })} error={err('ca_pem')} />
            </>
          )}
          {form.kind === 'slack' && (
            <>
              <SelectField
                label="Mode"
                value={form.mode}
                onChange={(e) => set({ mode: e.target.value as ChannelForm['mode'] })}
                options={[
                  { value: 'bot', label: 'Bot token (chat.postMessage)' },
                  { value: 'webhook', label: 'Incoming webhook' },
                ]}
              />
              {form.mode === 'bot' && <TextField label="Default channel" placeholder="#ops" value={form.default_channel} onChange={(e) => set({ default_channel: e.target.value })} error={err('default_channel')} />}
              {form.mode === 'bot' && <TextField label="Web API URL" hint="Empty: https://slack.com/api/." value={form.api_url} onChange={(e) => set({ api_url: e.target.value })} error={err('api_url')} />}
              {secret(form.mode === 'bot' ? 'token' : 'webhook_url')}
            </>
          )}
          {form.kind === 'teams' && secret('webhook_url')}
          {form.kind === 'webhook' && (
            <>
              <TextField label="URL" placeholder="https://hooks.example.com/opsconductor" value={form.url} onChange={(e) => set({ url: e.target.value })} error={err('url')} />
              <TextArea label="Headers" hint="One per line, Name: value (sent in the clear)." value={form.headers} onChange={(e) => set({ headers: e.target.value })} error={err('headers')} />
              {secret('signing_secret')}
              <TextArea
                label="Secret headers"
                hint={
                  stored.some((s) => s.startsWith('headers.'))
                    ? `Set: ${stored.filter((s) => s.startsWith('headers.')).map((s) => s.slice(8)).join(', ')}. Typing replaces them all; empty keeps them.`
                    : 'One per line, Name: value (e.g. Authorization). Write-only.'
                }
                value={form.secret_headers}
                onChange={(e) => set({ secret_headers: e.target.value })}
                error={err('secret_headers')}
              />
              {stored.some((s) => s.startsWith('headers.')) && <CheckboxField label="Clear the secret headers" checked={form.clear_headers} onChange={(e) => set({ clear_headers: e.target.checked })} />}
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Delivery</legend>
          <CheckboxField label="Enabled" checked={form.enabled} onChange={(e) => set({ enabled: e.target.checked })} />
          <CheckboxField label="Jobs' notify steps may send through it" checked={form.allow_steps} onChange={(e) => set({ allow_steps: e.target.checked })} />
          <TextField label="Attempts before dead-lettering" inputMode="numeric" value={form.max_attempts} onChange={(e) => set({ max_attempts: e.target.value })} error={err('max_attempts')} />
          <TextField label="At most per minute" inputMode="numeric" hint="Empty: no limit." value={form.per_minute} onChange={(e) => set({ per_minute: e.target.value })} error={err('per_minute')} />
        </fieldset>
        <p className="field-hint">{secretsOf(form.kind, form.mode).length > 0 && 'Secrets are sent once, stored encrypted and never shown again.'}</p>
        <ProblemAlert error={save.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>
            {original ? 'Save' : 'Create channel'}
          </Button>
          <Button onClick={() => void navigate('/notifications/channels')}>{original ? 'Back to channels' : 'Cancel'}</Button>
        </div>
      </form>
      {testing && original && <TestDialog channel={original} onClose={() => setTesting(false)} />}
    </>
  );
}
