import { useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface Tab {
  id: string;
  label: string;
}

/** ARIA tabs: arrow keys move between tabs, the panel follows. */
export function Tabs({ tabs, current, onChange, children, label }: {
  tabs: Tab[];
  current: string;
  onChange: (id: string) => void;
  children: ReactNode;
  label: string;
}) {
  const base = useId();
  const list = useRef<HTMLDivElement>(null);
  const key = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    const next = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -2;
    if (next === -2) return;
    e.preventDefault();
    const t = tabs[(next + tabs.length) % tabs.length];
    if (t) {
      onChange(t.id);
      list.current?.querySelector<HTMLButtonElement>(`#${CSS.escape(`${base}-${t.id}`)}`)?.focus();
    }
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} ref={list} onKeyDown={key}>
        {tabs.map((t) => (
          <button
            key={t.id}
            id={`${base}-${t.id}`}
            role="tab"
            type="button"
            aria-selected={t.id === current}
            aria-controls={`${base}-panel`}
            tabIndex={t.id === current ? 0 : -1}
            onClick={() => onChange(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-${current}`} tabIndex={0}>
        {children}
      </div>
    </div>
  );
}
