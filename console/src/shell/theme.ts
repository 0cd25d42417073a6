// Dark, light or the system's theme, remembered per user in this browser
// (a preference, not a secret).
import { useCallback, useEffect, useState } from 'react';

export type Theme = 'system' | 'light' | 'dark';

const key = (userId: string) => `opsconductor.theme.${userId}`;

export function storedTheme(userId: string | null): Theme {
  if (!userId) return 'system';
  const v = localStorage.getItem(key(userId));
  return v === 'light' || v === 'dark' ? v : 'system';
}

/** Applies a theme to the document (`data-theme` on `<html>`). */
export function applyTheme(t: Theme) {
  const dark = t === 'dark' || (t === 'system' && window.matchMedia?.('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

export function useTheme(userId: string | null): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => storedTheme(userId));
  useEffect(() => {
    setTheme(storedTheme(userId));
  }, [userId]);
  useEffect(() => {
    applyTheme(theme);
    if (theme !== 'system') return;
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    const on = () => applyTheme('system');
    mq?.addEventListener('change', on);
    return () => mq?.removeEventListener('change', on);
  }, [theme]);
  const set = useCallback(
    (t: Theme) => {
      if (userId) localStorage.setItem(key(userId), t);
      setTheme(t);
    },
    [userId],
  );
  return [theme, set];
}
