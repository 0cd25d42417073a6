import { useEffect, useRef, useState } from 'react';
import { useNavigate } from 'react-router';

/** Lets one submit through until it settles: a double click sends one request
 * even before React has re-rendered the button as busy. */
export function useSubmitGuard(): (send: (done: () => void) => void) => void {
  const busy = useRef(false);
  return (send) => {
    if (busy.current) return;
    busy.current = true;
    send(() => {
      busy.current = false;
    });
  };
}

/** Leaves an editor once it saved: the navigation waits for the render in
 * which the form is no longer dirty, so the unsaved-changes guard does not
 * stop it. */
export function useLeaveAfterSave(): { leaving: boolean; leave: (to: string) => void } {
  const navigate = useNavigate();
  const [to, setTo] = useState<string | null>(null);
  useEffect(() => {
    if (!to) return;
    // After every effect of this render, the blocker's among them, has run.
    const t = window.setTimeout(() => void navigate(to, { replace: true }), 0);
    return () => window.clearTimeout(t);
  }, [to, navigate]);
  return { leaving: to !== null, leave: setTo };
}
