import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useSession } from '../../auth/session';
import { useTitle } from '../../lib/title';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { fetchGroups, keys, selectorText } from './queries';

/** `/groups`: target groups with their static members and selectors. */
export function GroupList() {
  useTitle('Groups');
  const { can } = useSession();
  const q = useQuery({ queryKey: keys.list(), queryFn: fetchGroups });
  return (
    <>
      <PageHeader title="Groups" subtitle="Static members and/or a tag selector." actions={can('operator') && <Link className="btn btn-primary" to="new">New group</Link>} />
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="groups" />}
      {q.data && (
        <DataTable
          caption="Target groups"
          rows={q.data.items}
          rowKey={(g) => g.id}
          empty="No groups yet."
          columns={[
            { key: 'name', header: 'Name', cell: (g) => <Link to={g.id}>{g.name}</Link> },
            { key: 'desc', header: 'Description', cell: (g) => g.description || '—' },
            { key: 'members', header: 'Static members', numeric: true, cell: (g) => (g.members ?? []).length },
            { key: 'selector', header: 'Selector', cell: (g) => selectorText(g.selector) },
            { key: 'changed', header: 'Changed', cell: (g) => <Time at={g.updated_at} /> },
          ]}
        />
      )}
    </>
  );
}
