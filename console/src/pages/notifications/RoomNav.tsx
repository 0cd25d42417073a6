import { useSession, type Role } from '../../auth/session';
import { RoomNav as Nav, type RoomLink } from '../../ui/RoomNav';

const LINKS: (RoomLink & { role: Role })[] = [
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
  return <Nav label="Notifications" links={LINKS.filter((l) => can(l.role))} />;
}
