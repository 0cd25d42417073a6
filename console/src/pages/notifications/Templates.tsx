import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { ApiError } from '../../api/errors';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { useSubmitGuard } from '../../lib/editor';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { actionsColumn, DataTable } from '../../ui/DataTable';
import { SelectField, TextArea, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { KINDS, type Kind } from './channelForm';
import { fetchChannels, TRIGGERS, words } from './queries';
import { RoomNav } from './RoomNav';
import { shortId } from '../../lib/format';

type Template = Schemas['TemplateView'];
type Trigger = Schemas['NotifyTrigger'];

const T = '/api/v1/notifications/templates';
const key = ['notifications', 'templates'] as const;

interface Form {
  kind: Kind;
  channel_id: string;
  trigger: string;
  subject: string;
  text: string;
  html: string;
}

const formOf = (t?: Template): Form => ({
  kind: t?.kind ?? 'email',
  channel_id: t?.channel_id ?? '',
  trigger: t?.trigger ?? '',
  subject: t?.subject ?? '{{ headline }}',
  text: t?.text ?? '{{ headline }}\n{{ run.link }}',
  html: t?.html ?? '',
});

function bodyOf(f: Form): Schemas['TemplateBody'] {
  return {
    kind: f.kind,
    channel_id: f.channel_id || null,
    trigger: (f.trigger || null) as Trigger | null,
    subject: f.subject,
    text: f.text,
    html: f.kind === 'email' && f.html.trim() ? f.html : null,
  };
}

/** The form of one template: save, and render it on a sample failed run first. */
function Editor({ original, onDone }: { original?: Template; onDone: () => void }) {
  const qc = useQueryClient();
  const guard = useSubmitGuard();
  const channels = useQuery({ queryKey: ['notifications', 'channels'], queryFn: fetchChannels });
  const [initial] = useState(() => formOf(original));
  const [form, setForm] = useState(initial);
  const set = (p: Partial<Form>) => setForm((f) => ({ ...f, ...p }));
  const save = useMutation({
    mutationFn: (b: Schemas['TemplateBody']) => (original ? api.put<Template>(`${T}/${original.id}`, b) : api.post<Template>(T, b)),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: key });
      onDone();
    },
  });
  const preview = useMutation({
    mutationFn: (f: Form) =>
      api.post<Schemas['TemplatePreview']>(`${T}/preview`, {
        kind: f.kind,
        trigger: (f.trigger || 'run_failed') as Trigger,
        subject: f.subject,
        text: f.text,
        html: f.kind === 'email' && f.html.trim() ? f.html : null,
      }),
  });
  useUnsavedChanges(JSON.stringify(form) !== JSON.stringify(initial) && !save.isSuccess);
  const err: Record<string, string> = {};
  for (const e of [save.error, preview.error]) {
    if (e instanceof ApiError) for (const f of e.fieldErrors) err[f.path.replace(/^\//, '').split('/')[0] ?? ''] = f.message;
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    guard((done) => save.mutate(bodyOf(form), { onSettled: done }));
  };
  const ofKind = (channels.data ?? []).filter((c) => c.kind === form.kind);
  return (
    <section className="card" aria-labelledby="t-edit">
      <h2 id="t-edit">{original ? 'Edit template' : 'New template'}</h2>
      <form className="ntf-form" onSubmit={submit} noValidate>
        <div className="row">
          <SelectField label="Channel kind" value={form.kind} onChange={(e) => set({ kind: e.target.value as Kind, channel_id: '' })} options={KINDS} />
          <SelectField label="Only for the channel" value={form.channel_id} onChange={(e) => set({ channel_id: e.target.value })} error={err.channel_id} options={[{ value: '', label: 'every channel of the kind' }, ...ofKind.map((c) => ({ value: c.id, label: c.name }))]} />
          <SelectField label="Only for the trigger" value={form.trigger} onChange={(e) => set({ trigger: e.target.value })} options={[{ value: '', label: 'every trigger' }, ...TRIGGERS.map((t) => ({ value: t, label: words(t) }))]} />
        </div>
        <TextField label={form.kind === 'email' ? 'Subject' : 'Title'} className="mono" value={form.subject} onChange={(e) => set({ subject: e.target.value })} error={err.subject} />
        <TextArea label="Text" value={form.text} onChange={(e) => set({ text: e.target.value })} error={err.text} hint="minijinja: {{ headline }}, {{ job.name }}, {{ run.status }}, {{ run.link }}, {% for s in failed_steps %}…" />
        {form.kind === 'email' && <TextArea label="HTML body" hint="Empty: made from the text. Every value is escaped." value={form.html} onChange={(e) => set({ html: e.target.value })} error={err.html} />}
        <ProblemAlert error={save.error ?? preview.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>
            {original ? 'Save' : 'Create template'}
          </Button>
          <Button busy={preview.isPending} onClick={() => preview.mutate(form)}>
            Render on a sample
          </Button>
          <Button onClick={onDone}>Cancel</Button>
        </div>
      </form>
      {preview.data && (
        <section aria-label="Rendered template">
          <h3>{preview.data.subject}</h3>
          <pre className="ntf-message">{preview.data.text}</pre>
          {preview.data.html && (
            <details>
              <summary>HTML body (source)</summary>
              <pre className="ntf-message">{preview.data.html}</pre>
            </details>
          )}
          <p className="muted small">{preview.data.sample ? 'Rendered on a sample failed run.' : 'Rendered on a real run.'}</p>
        </section>
      )}
    </section>
  );
}

/** `/notifications/templates` (admins): overrides of the default messages, most specific first. */
export function Templates() {
  useTitle('Templates');
  const { can } = useSession();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Template | 'new' | null>(null);
  const q = useQuery({ queryKey: key, queryFn: () => api.get<Template[]>(T), enabled: can('admin') });
  const channels = useQuery({ queryKey: ['notifications', 'channels'], queryFn: fetchChannels, enabled: can('admin') });
  const names = new Map((channels.data ?? []).map((c) => [c.id, c.name]));
  const del = useMutation({ mutationFn: (t: Template) => api.del(`${T}/${t.id}`), onSuccess: () => qc.invalidateQueries({ queryKey: key }) });
  if (!can('admin')) return <ProblemAlert error={new Error('Only admins manage templates.')} title="Not allowed" />;
  return (
    <>
      <PageHeader
        title="Templates"
        subtitle="Overrides of the default messages. The most specific wins: channel and trigger, channel, kind and trigger, kind."
        actions={editing === null && <Button variant="primary" onClick={() => setEditing('new')}>New template</Button>}
      />
      <RoomNav />
      {editing !== null && <Editor key={editing === 'new' ? 'new' : editing.id} original={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />}
      <ProblemAlert error={q.error ?? del.error} />
      {q.isPending && <Loading what="templates" />}
      {q.data && (
        <DataTable
          caption="Notification templates"
          rows={q.data}
          rowKey={(t) => t.id}
          empty="No overrides: every channel uses its kind's default message."
          columns={[
            { key: 'kind', header: 'Kind', cell: (t) => t.kind },
            { key: 'channel', header: 'Channel', cell: (t) => (t.channel_id ? (names.get(t.channel_id) ?? shortId(t.channel_id)) : 'every') },
            { key: 'trigger', header: 'Trigger', cell: (t) => (t.trigger ? words(t.trigger) : 'every') },
            { key: 'subject', header: 'Subject', cell: (t) => <code>{t.subject}</code> },
            actionsColumn((t: Template) => (
              <div className="row">
                <Button onClick={() => setEditing(t)} aria-label={`Edit the ${t.kind} template ${shortId(t.id)}`}>
                  Edit
                </Button>
                <Button variant="danger" busy={del.isPending} onClick={() => del.mutate(t)} aria-label={`Delete the ${t.kind} template ${shortId(t.id)}`}>
                  Delete
                </Button>
              </div>
            )),
          ]}
        />
      )}
    </>
  );
}
