import type { Role } from '../auth/session';

export interface NavItem {
  to: string;
  label: string;
  /** The least role that sees it. */
  role: Role;
}

/** The navigation, by resource. */
export const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', role: 'viewer' },
  { to: '/jobs', label: 'Jobs', role: 'viewer' },
  { to: '/runs', label: 'Runs', role: 'viewer' },
  { to: '/targets', label: 'Targets', role: 'viewer' },
  { to: '/groups', label: 'Groups', role: 'viewer' },
  { to: '/credentials', label: 'Credentials', role: 'viewer' },
  { to: '/schedules', label: 'Schedules', role: 'viewer' },
  { to: '/notifications', label: 'Notifications', role: 'viewer' },
  { to: '/admin/workers', label: 'Workers', role: 'viewer' },
  { to: '/admin', label: 'Admin', role: 'admin' },
];
