import { useEffect, useState } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useSession } from '../auth/session';
import { AccountMenu } from './AccountMenu';
import { ExpiredDialog } from './ExpiredDialog';
import { NAV } from './nav';
import { Search } from './Search';

/** The signed-in frame: skip link, header, navigation, the page. */
export function Layout() {
  const session = useSession();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="btn btn-ghost menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          {menuOpen ? 'Close menu' : 'Open menu'}
        </button>
        <NavLink to="/" className="brand" aria-label="OpsConductor home">
          OpsConductor
        </NavLink>
        <Search />
        <AccountMenu />
      </header>
      <nav id="main-nav" aria-label="Main" className={menuOpen ? 'sidenav open' : 'sidenav'}>
        <ul>
          {NAV.filter((n) => session.can(n.role)).map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} end={n.to === '/'}>
                {n.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} className="content">
        <Outlet />
      </main>
      <ExpiredDialog />
    </div>
  );
}
