// The run's output as it streams: every section (a step on a target) or
// one, only the lines in view in the DOM, ANSI colours as classes, a find
// box with next/previous and highlighted matches, and a tail mode that
// follows the end until the user scrolls up.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Button } from '../../ui/Button';
import { parseAnsi } from './lib/ansi';
import { META, STDERR, locate, rowCount, rowOf, type Section } from './lib/lines';
import { Finder, highlight, type Match } from './lib/search';
import type { Live } from './lib/stream';

/** Line height in px (fixed: see runs.css `.out-line`). */
const LINE = 20;

const STATE_TEXT: Record<Live['state'], string> = {
  connecting: 'Connecting…',
  live: 'Live',
  paused: 'Paused while this tab is hidden',
  ended: 'Complete',
  error: 'Stream failed; trying again',
};

function LineText({ text, query, current }: { text: string; query: string; current: boolean }) {
  const segs = highlight(parseAnsi(text), query);
  return (
    <>
      {segs.map((s, i) =>
        s.hit ? (
          <mark key={i} className={[s.cls, current ? 'out-hit out-hit-current' : 'out-hit'].filter(Boolean).join(' ')}>
            {s.text}
          </mark>
        ) : s.cls ? (
          <span key={i} className={s.cls}>
            {s.text}
          </span>
        ) : (
          <span key={i}>{s.text}</span>
        ),
      )}
    </>
  );
}

export function OutputView({ live, sectionKey, onSection, sectionName, following }: {
  live: Live;
  /** The one section shown, or null for all. */
  sectionKey: string | null;
  onSection: (key: string | null) => void;
  sectionName: (s: Section) => string;
  /** Whether the run is going (tail mode starts on). */
  following: boolean;
}) {
  const { store } = live;
  const [follow, setFollow] = useState(following);
  const [query, setQuery] = useState('');
  const [cur, setCur] = useState(0);
  const viewport = useRef<HTMLDivElement>(null);
  const lastTop = useRef(0);

  const visible = sectionKey ? store.sections.filter((s) => s.key === sectionKey) : store.sections;
  const count = rowCount(visible);
  const finder = useMemo(() => new Finder(query), [query]);
  finder.update(store.sections);
  const matches: Match[] = query ? finder.matches(visible) : [];
  const current = matches.length ? Math.min(cur, matches.length - 1) : -1;
  const hit = current >= 0 ? matches[current] : undefined;

  const virtual = useVirtualizer({ count, getScrollElement: () => viewport.current, estimateSize: () => LINE, overscan: 30 });

  // Tail mode: after new lines, to the end.
  useEffect(() => {
    if (follow && count > 0) virtual.scrollToIndex(count - 1, { align: 'end' });
  }, [follow, count, live.version, virtual]);

  const onScroll = () => {
    const el = viewport.current;
    if (!el) return;
    const up = el.scrollTop < lastTop.current - 4;
    const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - LINE;
    lastTop.current = el.scrollTop;
    if (up && !atEnd && follow) setFollow(false);
  };

  const go = (delta: number) => {
    if (matches.length === 0) return;
    const next = (current + delta + matches.length) % matches.length;
    setCur(next);
    setFollow(false);
    const m = matches[next]!;
    virtual.scrollToIndex(rowOf(visible, m.section, m.line), { align: 'center' });
  };
  const onFindKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    go(e.shiftKey ? -1 : 1);
  };

  // A new search shows its first match at once (as a browser's find does),
  // without waiting for Enter; later lines do not move the view again.
  const jumped = useRef('');
  const firstMatch = useRef<{ query: string; row: number } | null>(null);
  firstMatch.current = matches[0] ? { query, row: rowOf(visible, matches[0].section, matches[0].line) } : null;
  useEffect(() => {
    if (!query) jumped.current = '';
    const first = firstMatch.current;
    if (!first || first.query !== query || jumped.current === query) return;
    jumped.current = query;
    setCur(0);
    setFollow(false);
    virtual.scrollToIndex(first.row, { align: 'center' });
  }, [query, count, virtual]);

  const hitRow = hit ? rowOf(visible, hit.section, hit.line) : -1;
  return (
    <section className="card out-card" aria-labelledby="run-output">
      <div className="out-toolbar">
        <h2 id="run-output">Output</h2>
        <span className="muted small" role="status">
          {STATE_TEXT[live.state]} · {store.total.toLocaleString()} line{store.total === 1 ? '' : 's'}
          {store.dropped > 0 && ` (${store.dropped.toLocaleString()} more not kept)`}
        </span>
      </div>
      <div className="out-controls">
        <label className="out-control">
          <span>Show</span>
          <select
            value={sectionKey ?? ''}
            onChange={(e) => {
              lastTop.current = 0;
              onSection(e.target.value || null);
            }}
          >
            <option value="">Every step</option>
            {store.sections.map((s) => (
              <option key={s.key} value={s.key}>
                {sectionName(s)}
              </option>
            ))}
          </select>
        </label>
        <label className="out-control out-find">
          <span>Find in output</span>
          <input
            type="search"
            value={query}
            onChange={(e) => {
              setQuery(e.target.value);
              setCur(0);
            }}
            onKeyDown={onFindKey}
            aria-describedby="out-matches"
          />
        </label>
        <span id="out-matches" className="muted small out-matches" aria-live="polite">
          {query ? (matches.length ? `${current + 1} of ${matches.length.toLocaleString()}${finder.capped ? '+' : ''}` : 'No match') : ''}
        </span>
        <Button onClick={() => go(-1)} disabled={matches.length === 0}>
          Previous match
        </Button>
        <Button onClick={() => go(1)} disabled={matches.length === 0}>
          Next match
        </Button>
        <Button aria-pressed={follow} onClick={() => setFollow((f) => !f)} className={follow ? 'out-follow-on' : undefined}>
          Follow output
        </Button>
      </div>
      <div ref={viewport} className="out-view" tabIndex={0} role="region" aria-label="Output lines" onScroll={onScroll}>
        {count === 0 ? (
          <p className="out-empty muted">{live.state === 'ended' ? 'This run printed nothing.' : 'No output yet.'}</p>
        ) : (
          <div role="presentation" className="out-spacer" style={{ height: virtual.getTotalSize() }}>
            {virtual.getVirtualItems().map((v) => {
              const at = locate(visible, v.index);
              const s = at ? visible[at.section] : undefined;
              if (!at || !s) return null;
              const style = { transform: `translateY(${v.start}px)` };
              if (at.line < 0) {
                return (
                  <div key={v.key} className="out-line out-section" style={style}>
                    ▸ {sectionName(s)}
                  </div>
                );
              }
              const kind = s.kinds[at.line];
              const cls = kind === STDERR ? ' out-stderr' : kind === META ? ' out-meta' : '';
              return (
                <div key={v.key} className={`out-line${cls}${v.index === hitRow ? ' out-line-current' : ''}`} style={style} data-line={at.line + 1}>
                  <span className="out-no" aria-hidden="true">
                    {at.line + 1}
                  </span>
                  <span className="out-text">
                    <LineText text={s.texts[at.line] ?? ''} query={query} current={v.index === hitRow} />
                  </span>
                </div>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
