import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { TYPES, type CredentialType } from './model';
import { fetchList, keys, type Credential } from './queries';

/** A short reading of a scope: its hosts, pools and tags. */
export function scopeText(c: Credential): string {
  const s = c.scope;
  const parts = [
    s.hosts?.length ? `hosts ${s.hosts.join(', ')}` : 'no hosts',
    s.pools?.length ? `pools ${s.pools.join(', ')}` : '',
    s.tags?.length ? `tags ${s.tags.join(', ')}` : '',
    s.targets?.length ? `${s.targets.length} target(s)` : '',
    s.groups?.length ? `${s.groups.length} group(s)` : '',
  ];
  return parts.filter(Boolean).join('; ');
}

export const typeLabel = (t: string) => TYPES[t as CredentialType]?.label ?? t;

/** `/credentials`: every credential's metadata (secrets are never shown). */
export function CredentialList() {
  useTitle('Credentials');
  const { can } = useSession();
  const q = useQuery({ queryKey: keys.list(), queryFn: fetchList });
  return (
    <>
      <PageHeader
        title="Credentials"
        subtitle="Secrets are sealed when saved and never shown again."
        actions={can('admin') && <Link className="btn btn-primary" to="new">New credential</Link>}
      />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="credentials" />}
      {q.data && (
        <DataTable
          caption="Credentials"
          rows={q.data.items}
          rowKey={(c) => c.id}
          empty="No credentials yet."
          columns={[
            { key: 'name', header: 'Name', cell: (c) => <Link to={c.id}>{c.name}</Link> },
            { key: 'type', header: 'Type', cell: (c) => typeLabel(c.type) },
            { key: 'scope', header: 'Scope', cell: (c) => scopeText(c) },
            { key: 'created', header: 'Created', cell: (c) => <Time at={c.created_at} /> },
            { key: 'used', header: 'Last used', cell: (c) => <Time at={c.last_used_at} /> },
          ]}
        />
      )}
    </>
  );
}
