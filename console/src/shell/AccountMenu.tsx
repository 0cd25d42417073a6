import { useEffect, useId, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import { useSession, useUser } from '../auth/session';
import { useTheme, type Theme } from './theme';

/** The user's menu: who is signed in, the theme, sign-out. */
export function AccountMenu() {
  const user = useUser();
  const session = useSession();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [theme, setTheme] = useTheme(user.id);
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="account" ref={box}>
      <button
        type="button"
        className="btn btn-ghost"
        aria-label="Account"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen((o) => !o)}
      >
        <span aria-hidden="true" className="avatar">
          {user.username.slice(0, 1).toUpperCase()}
        </span>
        <span className="account-name">{user.username}</span>
      </button>
      {open && (
        <div id={id} className="popover account-popover">
          <p>
            Signed in as <strong>{user.username}</strong> <span className="badge">{user.role}</span>
          </p>
          <div className="field">
            <label htmlFor={`${id}-theme`}>Theme</label>
            <select id={`${id}-theme`} value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
              <option value="system">System</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </div>
          <button type="button" className="btn btn-ghost" onClick={() => navigate('/profile')}>
            Profile and security
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => navigate('/admin/tokens')}>
            API tokens
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => void session.signOut().then(() => navigate('/login'))}
          >
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}
