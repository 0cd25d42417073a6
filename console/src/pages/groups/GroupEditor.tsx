import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { api } from '../../api/client';
import type { Schemas } from '../../api/types';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { useUnsavedChanges } from '../../lib/unsaved';
import { Button } from '../../ui/Button';
import { CheckboxField, SelectField, TextField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { OS_TYPES } from '../targets/targetForm';
import { fetchAllTargets, fetchGroup, groupPath, keys, type Group, type GroupSpec } from './queries';

interface Form {
  name: string;
  description: string;
  members: string[];
  useSelector: boolean;
  tags: string;
  os_type: string;
}

function formOf(g?: Group): Form {
  return {
    name: g?.name ?? '',
    description: g?.description ?? '',
    members: g?.members ?? [],
    useSelector: Boolean(g?.selector),
    tags: (g?.selector?.tags ?? []).join(', '),
    os_type: g?.selector?.os_type ?? '',
  };
}

/** The group document of the form. */
export function specOf(f: Form): GroupSpec {
  return {
    name: f.name.trim(),
    description: f.description.trim(),
    members: f.members,
    selector: f.useSelector
      ? {
          tags: f.tags
            .split(/[,\s]+/)
            .map((t) => t.trim())
            .filter(Boolean),
          os_type: (f.os_type || null) as Schemas['OsType'] | null,
        }
      : null,
  };
}

/** `/groups/new` and `/groups/:id/edit`. */
export function GroupEditor() {
  const { id } = useParams();
  const q = useQuery({ queryKey: keys.one(id ?? ''), queryFn: () => fetchGroup(id ?? ''), enabled: Boolean(id) });
  if (id && q.isPending) return <Loading what="the group" />;
  if (id && q.error) return <ProblemAlert error={q.error} />;
  return <Editor key={id ?? 'new'} original={id ? q.data : undefined} />;
}

function Editor({ original }: { original?: Group }) {
  useTitle(original ? `Edit ${original.name}` : 'New group');
  const { can } = useSession();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const targets = useQuery({ queryKey: ['targets', 'list', { all: true }], queryFn: fetchAllTargets });
  const [initial] = useState(() => formOf(original));
  const [form, setForm] = useState(initial);
  const [filter, setFilter] = useState('');
  const [nameError, setNameError] = useState<string>();
  const allowLeaving = useUnsavedChanges(JSON.stringify(form) !== JSON.stringify(initial));
  const save = useMutation({
    mutationFn: (spec: GroupSpec) => (original ? api.put<Group>(groupPath(original.id), spec) : api.post<Group>('/api/v1/target-groups', spec)),
    onSuccess: async (g) => {
      await qc.invalidateQueries({ queryKey: keys.all });
      allowLeaving();
      void navigate(`/groups/${g.id}`, { replace: true });
    },
  });
  const set = (patch: Partial<Form>) => setForm((f) => ({ ...f, ...patch }));
  const toggle = (id: string, on: boolean) => setForm((f) => ({ ...f, members: on ? [...f.members, id] : f.members.filter((m) => m !== id) }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!form.name.trim()) return setNameError('A name is required');
    setNameError(undefined);
    save.mutate(specOf(form));
  };
  if (!can('operator')) return <ProblemAlert error={new Error('Viewers cannot change groups.')} title="Not allowed" />;
  const shown = (targets.data?.items ?? []).filter((t) => !filter || t.name.toLowerCase().includes(filter.toLowerCase()) || form.members.includes(t.id));
  return (
    <>
      <PageHeader title={original ? `Edit ${original.name}` : 'New group'} />
      <form className="form card group-form" onSubmit={submit} noValidate>
        <TextField label="Name" value={form.name} onChange={(e) => set({ name: e.target.value })} error={nameError} required />
        <TextField label="Description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
        <fieldset>
          <legend>Selector</legend>
          <CheckboxField label="Also include every target matching a selector" checked={form.useSelector} onChange={(e) => set({ useSelector: e.target.checked })} />
          {form.useSelector && (
            <>
              <TextField label="Selector tags" hint="Targets carrying all of these (comma-separated)." value={form.tags} onChange={(e) => set({ tags: e.target.value })} />
              <SelectField
                label="Selector OS type"
                value={form.os_type}
                onChange={(e) => set({ os_type: e.target.value })}
                options={[{ value: '', label: 'Any' }, ...OS_TYPES.map((o) => ({ value: o, label: o.replace('_', ' ') }))]}
              />
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Static members ({form.members.length})</legend>
          <ProblemAlert error={targets.error} />
          <TextField label="Find targets" value={filter} onChange={(e) => setFilter(e.target.value)} />
          <div className="member-list">
            {shown.map((t) => (
              <CheckboxField key={t.id} label={`${t.name} (${t.hostname})`} checked={form.members.includes(t.id)} onChange={(e) => toggle(t.id, e.target.checked)} />
            ))}
            {targets.data && shown.length === 0 && <p className="muted">No target matches.</p>}
          </div>
        </fieldset>
        <ProblemAlert error={save.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.isPending}>{original ? 'Save' : 'Create group'}</Button>
          <Button onClick={() => void navigate(original ? `/groups/${original.id}` : '/groups')}>Cancel</Button>
        </div>
      </form>
    </>
  );
}
