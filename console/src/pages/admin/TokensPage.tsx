// /admin/tokens: the signed-in user's API tokens — create (the secret is
// shown once), list, revoke. Every role manages its own.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { useSession, useUser } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { ConfirmDialog } from '../../ui/ConfirmDialog';
import { actionsColumn, DataTable } from '../../ui/DataTable';
import { Dialog } from '../../ui/Dialog';
import { SelectField, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { api } from '../../api/client';
import { LIFETIMES, fieldErrors, grantable, newTokenBody, tokenState } from './model';
import { ROLES, fetchTokens, keys, type CreatedToken, type Role, type Token } from './queries';

const FIELDS = ['name', 'role', 'expires_in_days', 'never_expires'] as const;

function CreateToken({ onCreated }: { onCreated: (t: CreatedToken) => void }) {
  const user = useUser();
  const { can } = useSession();
  const qc = useQueryClient();
  const roles = grantable(user.role, ROLES);
  const lifetimes = LIFETIMES.filter((l) => !l.never || can('admin'));
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(user.role);
  const [lifetime, setLifetime] = useState('default');
  const [days, setDays] = useState('30');
  const [nameMissing, setNameMissing] = useState<string>();
  const create = useMutation({
    mutationFn: () => api.post<CreatedToken>('/api/v1/api-tokens', newTokenBody(name, role, lifetime, days)),
    // The secret lives only in the dialog: not in the mutation's cache.
    gcTime: 0,
    onSuccess: async (t) => {
      setName('');
      onCreated(t);
      await qc.invalidateQueries({ queryKey: keys.tokens });
    },
  });
  const errs = fieldErrors(create.error, FIELDS);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setNameMissing('A name is required');
    setNameMissing(undefined);
    create.mutate(undefined, { onSuccess: () => create.reset() });
  };
  return (
    <section className="card" aria-labelledby="token-new">
      <h2 id="token-new">New token</h2>
      <form className="admin-form" onSubmit={submit} noValidate aria-label="New API token">
        <TextField
          label="Token name"
          hint="To recognise it by, e.g. the script or pipeline that uses it."
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={nameMissing ?? errs.name}
          required
        />
        <SelectField
          label="Token role"
          hint="At most your own role."
          value={role}
          onChange={(e) => setRole(e.target.value as Role)}
          options={roles.map((r) => ({ value: r, label: r }))}
          error={errs.role}
        />
        <SelectField
          label="Expires"
          value={lifetime}
          onChange={(e) => setLifetime(e.target.value)}
          options={lifetimes.map((l) => ({ value: l.value, label: l.label }))}
          error={errs.never_expires}
        />
        {lifetime === 'custom' && (
          <TextField
            label="Days until it expires"
            type="number"
            min={1}
            max={3650}
            value={days}
            onChange={(e) => setDays(e.target.value)}
            error={errs.expires_in_days}
            hint="1 to 3650."
          />
        )}
        <ProblemAlert error={create.error} title="The token was not created" />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create token
          </Button>
        </div>
      </form>
    </section>
  );
}

/** The secret, once: a warning, the value ready to copy, and nothing kept after closing. */
function ShownOnce({ created, onClose }: { created: CreatedToken | null; onClose: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.secret);
      setCopied('yes');
    } catch {
      // No clipboard permission (e.g. plain HTTP): select it for Ctrl+C.
      input.current?.select();
      setCopied('no');
    }
  };
  const close = () => {
    setCopied(null);
    onClose();
  };
  return (
    <Dialog
      open={created !== null}
      title="Copy your new token now"
      onClose={close}
      footer={
        <Button variant="primary" onClick={close}>
          I have copied it, close
        </Button>
      }
    >
      {created && (
        <>
          <div className="alert alert-warn" role="note">
            <strong>This is the only time the token is shown.</strong>
            <p>OpsConductor keeps only a hash of it. Store it in a secret manager now; if you lose it, revoke it and create another.</p>
          </div>
          <p>
            Token <strong>{created.token.name}</strong>, role {created.token.role}
            {created.token.expires_at ? (
              <>
                , expires <Time at={created.token.expires_at} />
              </>
            ) : (
              ', never expires'
            )}
            . Use it as <code>Authorization: Bearer &lt;token&gt;</code>.
          </p>
          <div className="token-secret">
            <label htmlFor="token-secret" className="sr-only">
              The new token
            </label>
            <input id="token-secret" ref={input} readOnly value={created.secret} onFocus={(e) => e.target.select()} spellCheck={false} />
            <Button onClick={() => void copy()}>Copy token</Button>
          </div>
          <p role="status" className="small">
            {copied === 'yes' && 'Copied to the clipboard.'}
            {copied === 'no' && 'The browser refused the clipboard: the token is selected, press Ctrl+C (⌘C).'}
          </p>
        </>
      )}
    </Dialog>
  );
}

export function TokensPage() {
  useTitle('API tokens');
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.tokens, queryFn: fetchTokens });
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const revoke = useMutation({
    mutationFn: (t: Token) => api.del(`/api/v1/api-tokens/${encodeURIComponent(t.id)}`),
    onSuccess: async () => {
      setRevoking(null);
      await qc.invalidateQueries({ queryKey: keys.tokens });
    },
  });
  const open = (t: Token) => {
    revoke.reset();
    setRevoking(t);
  };
  return (
    <>
      <PageHeader title="API tokens" subtitle="Tokens for scripts and pipelines, each with a role of at most yours. Only you see your tokens." />
      <CreateToken onCreated={setCreated} />
      <ShownOnce created={created} onClose={() => setCreated(null)} />
      <section aria-labelledby="token-list">
        <h2 id="token-list">Your tokens</h2>
        <ProblemAlert error={q.error} />
        {q.isPending && <Loading what="your tokens" />}
        {q.data && (
          <DataTable
            caption="Your API tokens"
            rows={q.data.items}
            rowKey={(t) => t.id}
            empty="You have no API tokens."
            columns={[
              { key: 'name', header: 'Name', cell: (t) => t.name },
              { key: 'prefix', header: 'Starts with', cell: (t) => <code>{t.prefix}…</code> },
              { key: 'role', header: 'Role', cell: (t) => t.role },
              {
                key: 'state',
                header: 'State',
                cell: (t) => {
                  const s = tokenState(t);
                  return <span className={`badge state-${s}`}>{s}</span>;
                },
              },
              { key: 'created', header: 'Created', cell: (t) => <Time at={t.created_at} /> },
              { key: 'expires', header: 'Expires', cell: (t) => (t.expires_at ? <Time at={t.expires_at} /> : 'never') },
              { key: 'used', header: 'Last used', cell: (t) => (t.last_used_at ? <Time at={t.last_used_at} /> : 'never') },
              actionsColumn((t: Token) =>
                tokenState(t) === 'revoked' ? null : (
                  <Button variant="danger" aria-label={`Revoke ${t.name}`} onClick={() => open(t)}>
                    Revoke
                  </Button>
                ),
              ),
            ]}
          />
        )}
      </section>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? 'the token'}?`}
        onClose={() => setRevoking(null)}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        busy={revoke.isPending}
        error={revoke.error}
        errorTitle="The token was not revoked"
        confirmLabel="Revoke token"
      >
        <p>Anything using this token is refused from now on. This cannot be undone.</p>
      </ConfirmDialog>
    </>
  );
}
