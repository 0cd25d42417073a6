import { NavLink } from 'react-router';

/** One link of a room's navigation. */
export interface RoomLink {
  to: string;
  label: string;
  /** Active only on this very path, not below it (the room's first page). */
  end?: boolean;
}

/** A room's own navigation under each page's title: `label` names it for
 * screen readers; the link of the page shown is marked active. */
export function RoomNav({ label, links }: { label: string; links: RoomLink[] }) {
  return (
    <nav className="room-nav" aria-label={label}>
      <ul>
        {links.map((l) => (
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
