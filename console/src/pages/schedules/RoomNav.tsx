import { NavLink } from 'react-router';

const LINKS = [
  { to: '/schedules', label: 'Schedules', end: true },
  { to: '/schedules/calendar', label: 'Calendar', end: false },
  { to: '/schedules/windows', label: 'Maintenance windows', end: false },
  { to: '/schedules/scheduler', label: 'Scheduler', end: false },
];

/** The room's own navigation, under each page's title. */
export function RoomNav() {
  return (
    <nav className="sched-nav" aria-label="Schedules">
      <ul>
        {LINKS.map((l) => (
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
