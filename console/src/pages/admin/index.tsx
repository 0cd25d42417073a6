import { Navigate, NavLink, Route, Routes } from 'react-router';
import { useSession, type Role } from '../../auth/session';
import { NotFound } from '../NotFound';
import { AuditPage } from './AuditPage';
import { NotAllowed } from './NotAllowed';
import { SecurityPage } from './SecurityPage';
import { TokensPage } from './TokensPage';
import { NewUserPage } from './NewUserPage';
import { UserPage } from './UserPage';
import { UsersPage } from './UsersPage';
import { WorkersPage } from './WorkersPage';
import './admin.css';

/** The room's sections and the least role that may use each (as the API's `x-opsc-access`). */
const SECTIONS: { path: string; label: string; role: Role }[] = [
  { path: 'users', label: 'Users', role: 'admin' },
  { path: 'tokens', label: 'API tokens', role: 'viewer' },
  { path: 'security', label: 'Security', role: 'admin' },
  { path: 'audit', label: 'Audit log', role: 'admin' },
  { path: 'workers', label: 'Workers', role: 'viewer' },
];

/** A section only admins may use: the page, or a clear refusal. */
function AdminOnly({ what, children }: { what: string; children: React.ReactNode }) {
  const { can } = useSession();
  return can('admin') ? <>{children}</> : <NotAllowed what={what} />;
}

/** The administration room: users, API tokens, security settings, the audit log and workers. */
export default function AdminRoom() {
  const { can } = useSession();
  const sections = SECTIONS.filter((s) => can(s.role));
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label="Administration">
        <ul>
          {sections.map((s) => (
            <li key={s.path}>
              <NavLink to={`/admin/${s.path}`}>{s.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <Routes>
        <Route index element={<Navigate to={can('admin') ? 'users' : 'tokens'} replace />} />
        <Route path="users" element={<AdminOnly what="users and roles"><UsersPage /></AdminOnly>} />
        <Route path="users/new" element={<AdminOnly what="users and roles"><NewUserPage /></AdminOnly>} />
        <Route path="users/:id" element={<AdminOnly what="users and roles"><UserPage /></AdminOnly>} />
        <Route path="tokens" element={<TokensPage />} />
        <Route path="security" element={<AdminOnly what="the security settings"><SecurityPage /></AdminOnly>} />
        <Route path="audit" element={<AdminOnly what="the audit log"><AuditPage /></AdminOnly>} />
        <Route path="workers" element={<WorkersPage />} />
        <Route path="*" element={<NotFound />} />
      </Routes>
    </div>
  );
}
