import { NavLink } from 'react-router';
import { useSession, type Role } from '../../auth/session';

const LINKS: { to: string; label: string; role: Role; end?: boolean }[] = [
  { to: '/notifications', label: 'History', role: 'viewer', end: true },
  { to: '/notifications/channels', label: 'Channels', role: 'operator' },
  { to: '/notifications/rules', label: 'Rules', role: 'operator' },
  { to: '/notifications/preferences', label: 'My preferences', role: 'viewer' },
  { to: '/notifications/dead-letters', label: 'Dead letters', role: 'admin' },
  { to: '/notifications/templates', label: 'Templates', role: 'admin' },
  { to: '/notifications/status', label: 'Notifier', role: 'operator' },
];

/** The room's own navigation: what the role may see. */
export function RoomNav() {
  const { can } = useSession();
  return (
    <nav className="ntf-nav" aria-label="Notifications">
      <ul>
        {LINKS.filter((l) => can(l.role)).map((l) => (
          <li key={l.to}>
            <NavLink to={l.to} end={l.end} className={({ isActive }) => (isActive ? 'active' : undefined)}>
              {l.label}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
