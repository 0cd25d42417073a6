// /admin/users: every user with role, state and MFA, paged by the API.
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link, useLocation, useSearchParams } from 'react-router';
import { useTitle } from '../../lib/title';
import { DataTable } from '../../ui/DataTable';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import { Time } from '../../ui/Time';
import { pageOf } from './audit';
import { Pager } from './Pager';
import { USERS_PAGE, fetchUsers, keys } from './queries';

export function UsersPage() {
  useTitle('Users');
  const [sp, setSp] = useSearchParams();
  const created = (useLocation().state as { created?: string } | null)?.created;
  const raw = Number(sp.get('offset'));
  const offset = Number.isInteger(raw) && raw > 0 ? raw : 0;
  const q = useQuery({ queryKey: keys.userList(offset), queryFn: () => fetchUsers(offset), placeholderData: keepPreviousData });
  const go = (o: number | null) => {
    if (o === null) return;
    setSp(o > 0 ? { offset: String(o) } : {});
  };
  const p = q.data ? pageOf(offset, USERS_PAGE, q.data.items.length, q.data.total) : null;
  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Who may sign in, and with which role."
        actions={
          <Link className="btn btn-primary" to="/admin/users/new">
            New user
          </Link>
        }
      />
      {created && (
        <div className="alert alert-info" role="status">
          User <strong>{created}</strong> created.
        </div>
      )}
      <ProblemAlert error={q.error} />
      {q.isPending && <Loading what="users" />}
      {q.data && (
        <>
          <DataTable
            caption="Users"
            rows={q.data.items}
            rowKey={(u) => u.id}
            empty="No users."
            columns={[
              { key: 'name', header: 'User name', cell: (u) => <Link to={`/admin/users/${u.id}`}>{u.username}</Link> },
              { key: 'display', header: 'Display name', cell: (u) => u.display_name },
              { key: 'role', header: 'Role', cell: (u) => <span className="badge">{u.role}</span> },
              {
                key: 'state',
                header: 'State',
                cell: (u) => <span className={`badge ${u.active ? 'state-active' : 'state-inactive'}`}>{u.active ? 'active' : 'inactive'}</span>,
              },
              { key: 'mfa', header: 'MFA', cell: (u) => (u.mfa_enabled ? 'on' : 'off') },
              { key: 'email', header: 'Email', cell: (u) => u.email ?? <span className="muted">—</span> },
              { key: 'created', header: 'Created', cell: (u) => <Time at={u.created_at} /> },
            ]}
          />
          {p && p.total > USERS_PAGE && (
            <Pager label="Pages of users" page={p} onGo={go}>
              <span>
                {p.from}–{p.to} of {p.total}
              </span>
            </Pager>
          )}
        </>
      )}
    </>
  );
}
