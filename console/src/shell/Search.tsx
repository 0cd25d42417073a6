import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { api } from '../api/client';
import { shortId } from '../lib/format';

interface Hits {
  jobs: { id: string; name: string }[];
  targets: { id: string; name: string; address?: string }[];
  runs: { id: string; job_name?: string; status?: string }[];
}

interface Option {
  id: string;
  label: string;
  kind: string;
  to: string;
}

function options(h: Hits | undefined): Option[] {
  if (!h) return [];
  return [
    ...h.jobs.map((j) => ({ id: `j-${j.id}`, label: j.name, kind: 'Job', to: `/jobs/${j.id}` })),
    ...h.targets.map((t) => ({ id: `t-${t.id}`, label: t.address ? `${t.name} (${t.address})` : t.name, kind: 'Target', to: `/targets/${t.id}` })),
    ...h.runs.map((r) => ({ id: `r-${r.id}`, label: `${shortId(r.id)} ${r.job_name ?? ''} ${r.status ?? ''}`.trim(), kind: 'Run', to: `/runs/${r.id}` })),
  ];
}

/** Global search: jobs, targets, runs by id. `/` focuses it. */
export function Search() {
  const [q, setQ] = useState('');
  const [term, setTerm] = useState('');
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const navigate = useNavigate();
  const id = useId();
  useEffect(() => {
    const t = window.setTimeout(() => setTerm(q.trim()), 200);
    return () => window.clearTimeout(t);
  }, [q]);
  useEffect(() => {
    const slash = (e: globalThis.KeyboardEvent) => {
      const el = e.target as HTMLElement;
      if (e.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) && !el.isContentEditable) {
        e.preventDefault();
        input.current?.focus();
      }
    };
    document.addEventListener('keydown', slash);
    return () => document.removeEventListener('keydown', slash);
  }, []);
  const hits = useQuery({
    queryKey: ['search', term],
    queryFn: ({ signal }) => api.get<Hits>('/api/v1/search', { query: { q: term }, signal }),
    enabled: term.length >= 2,
  });
  const list = options(hits.data);
  const go = (o: Option | undefined) => {
    if (!o) return;
    setOpen(false);
    setQ('');
    navigate(o.to);
  };
  const key = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, list.length - 1));
    else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
    else if (e.key === 'Enter') go(list[active]);
    else if (e.key === 'Escape') setOpen(false);
    else return;
    e.preventDefault();
  };
  const show = open && term.length >= 2;
  return (
    <div className="search">
      <label htmlFor={id} className="sr-only">
        Search jobs, targets and runs
      </label>
      <input
        id={id}
        ref={input}
        type="search"
        role="combobox"
        aria-expanded={show}
        aria-controls={`${id}-list`}
        aria-autocomplete="list"
        aria-activedescendant={show && list[active] ? `${id}-${list[active].id}` : undefined}
        placeholder="Search ( / )"
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
          setActive(0);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => window.setTimeout(() => setOpen(false), 150)}
        onKeyDown={key}
      />
      {show && (
        <ul id={`${id}-list`} role="listbox" className="popover search-list" aria-label="Search results">
          {list.length === 0 && <li className="muted">{hits.isFetching ? 'Searching…' : 'No match'}</li>}
          {list.map((o, i) => (
            <li
              key={o.id}
              id={`${id}-${o.id}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                go(o);
              }}
            >
              <span className="badge">{o.kind}</span> {o.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
