import { RoomNav as Nav, type RoomLink } from '../../ui/RoomNav';

const LINKS: RoomLink[] = [
  { to: '/schedules', label: 'Schedules', end: true },
  { to: '/schedules/calendar', label: 'Calendar' },
  { to: '/schedules/windows', label: 'Maintenance windows' },
  { to: '/schedules/scheduler', label: 'Scheduler' },
];

/** The room's own navigation, under each page's title. */
export function RoomNav() {
  return <Nav label="Schedules" links={LINKS} />;
}
