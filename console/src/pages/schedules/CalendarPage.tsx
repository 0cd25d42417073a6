import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, type KeyboardEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useTitle } from '../../lib/title';
import { Button } from '../../ui/Button';
import { SelectField } from '../../ui/Field';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemAlert } from '../../ui/ProblemAlert';
import { Loading } from '../../ui/Status';
import {
  allZones,
  browserZone,
  clock,
  dayKey,
  dayLabel,
  dayOf,
  fateOf,
  firesByDay,
  firesByHour,
  groupBySchedule,
  hourInWindow,
  isZone,
  monthGrid,
  moveFocus,
  parseDay,
  sameDay,
  shiftView,
  spansOn,
  viewRange,
  viewTitle,
  type Day,
  type Fire,
  type FireGroup,
  type Opening,
  type View,
  type WindowInfo,
  upcoming,
} from './calendar';
import { fetchCalendar, fetchSchedules, fetchWindowCalendar, fetchWindows, keys } from './queries';
import { RoomNav } from './RoomNav';

const VIEWS: { id: View; label: string }[] = [
  { id: 'month', label: 'Month' },
  { id: 'week', label: 'Week' },
  { id: 'day', label: 'Day' },
];

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

interface Ctx {
  zone: string;
  openings: Opening[];
  windows: Map<string, WindowInfo>;
  paused: Set<string>;
}

/** A view's keydown handler: the keys `moveFocus` knows move the focused
 * day (and do nothing else); other keys pass. */
function focusKeys(view: View, anchor: Day, onFocusDay: (d: Day) => void) {
  return (e: KeyboardEvent) => {
    const next = moveFocus(view, anchor, e.key);
    if (!next) return;
    e.preventDefault();
    onFocusDay(next);
  };
}

/** A fire's mark: skipped, deferred, or maybe affected by a window. */
function FateMark({ fire, ctx }: { fire: Fire; ctx: Ctx }) {
  const fate = fateOf(fire, ctx.openings, ctx.windows, ctx.paused);
  switch (fate.kind) {
    case 'skipped_gap':
      return <span className="badge status-skipped">skipped (DST gap)</span>;
    case 'paused':
      return <span className="badge status-paused">paused</span>;
    case 'window':
      return <span className="badge status-skipped">{fate.policy === 'skip' ? `skipped: ${fate.window}` : `deferred: ${fate.window}`}</span>;
    case 'maybe_window':
      return <span className="badge">in {fate.window}</span>;
    default:
      return null;
  }
}

function groupSkipped(g: FireGroup, ctx: Ctx): boolean {
  return g.fires.every((f) => {
    const k = fateOf(f, ctx.openings, ctx.windows, ctx.paused).kind;
    return k === 'skipped_gap' || k === 'window' || k === 'paused';
  });
}

/** One schedule's fires in a bucket: its name, how many, the first times and marks. */
function Group({ g, ctx, times = 4, linkable = true }: { g: FireGroup; ctx: Ctx; times?: number; linkable?: boolean }) {
  const shown = g.fires.slice(0, times);
  const marks = g.fires.filter((f) => fateOf(f, ctx.openings, ctx.windows, ctx.paused).kind !== 'fires');
  const name = linkable ? (
    <Link to={`/schedules/${g.schedule_id}`}>{g.schedule_name}</Link>
  ) : (
    <span>{g.schedule_name}</span>
  );
  return (
    <li className={groupSkipped(g, ctx) ? 'cal-fire cal-skipped' : 'cal-fire'}>
      {name}
      {g.fires.length > 1 && <span className="muted"> ×{g.fires.length}</span>}{' '}
      {times > 0 && (
        <span className="cal-times">
          {shown.map((f) => clock(Date.parse(f.at), ctx.zone)).join(', ')}
          {g.fires.length > shown.length && ` … +${g.fires.length - shown.length} more`}
        </span>
      )}{' '}
      {marks[0] && <FateMark fire={marks[0]} ctx={ctx} />}
      {marks.length > 1 && <span className="muted small"> ({marks.length} marked)</span>}
    </li>
  );
}

/** What the month and week views show and how they answer. */
interface ViewProps {
  anchor: Day;
  today: Day;
  byDay: Map<string, Fire[]>;
  ctx: Ctx;
  onOpen: (d: Day) => void;
  onFocusDay: (d: Day) => void;
}

function MonthView({ anchor, today, byDay, ctx, onOpen, onFocusDay }: ViewProps) {
  const weeks = monthGrid(anchor.y, anchor.m);
  const key = focusKeys('month', anchor, onFocusDay);
  return (
    <table className="cal-month" onKeyDown={key}>
      <caption className="sr-only">Fires in {viewTitle('month', anchor)}; arrow keys move between days, Enter opens a day.</caption>
      <thead>
        <tr>
          {WEEKDAYS.map((w) => (
            <th key={w} scope="col">{w}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {weeks.map((week) => (
          <tr key={dayKey(week[0] ?? anchor)}>
            {week.map((d) => {
              const inMonth = d.m === anchor.m;
              const fires = inMonth ? (byDay.get(dayKey(d)) ?? []) : [];
              const groups = groupBySchedule(fires);
              const shaded = inMonth && spansOn(d, ctx.openings, ctx.zone).length > 0;
              const isToday = sameDay(d, today);
              const focused = sameDay(d, anchor);
              const cls = ['cal-cell', inMonth ? '' : 'cal-out', shaded ? 'cal-window' : '', isToday ? 'cal-today' : ''].filter(Boolean).join(' ');
              return (
                <td key={dayKey(d)} className={cls} aria-current={isToday ? 'date' : undefined}>
                  {inMonth ? (
                    <>
                      <button
                        type="button"
                        className="cal-daynum"
                        tabIndex={focused ? 0 : -1}
                        data-day={dayKey(d)}
                        aria-label={`${dayLabel(d)}${isToday ? ', today' : ''}: ${fires.length} fire${fires.length === 1 ? '' : 's'}${shaded ? ', maintenance window' : ''}`}
                        onClick={() => onOpen(d)}
                      >
                        {d.d}
                      </button>
                      {fires.length > 0 && (
                        <span className="cal-count" aria-hidden="true">
                          {fires.length}
                        </span>
                      )}
                      {groups.length > 0 && (
                        <ul className="cal-list">
                          {groups.slice(0, 3).map((g) => (
                            <Group key={g.schedule_id} g={g} ctx={ctx} times={0} linkable={false} />
                          ))}
                          {groups.length > 3 && <li className="muted small">+{groups.length - 3} more</li>}
                        </ul>
                      )}
                    </>
                  ) : (
                    <span className="cal-daynum muted" aria-hidden="true">{d.d}</span>
                  )}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function WindowNotes({ day, ctx }: { day: Day; ctx: Ctx }) {
  const spans = spansOn(day, ctx.openings, ctx.zone);
  if (spans.length === 0) return null;
  return (
    <ul className="cal-windows">
      {spans.map((s) => (
        <li key={`${s.window_id}-${s.opens_at}`}>
          Maintenance: {s.window_name} {clock(Date.parse(s.opens_at), ctx.zone)}–{clock(Date.parse(s.closes_at), ctx.zone)}
        </li>
      ))}
    </ul>
  );
}

function WeekView({ days, anchor, today, byDay, ctx, onOpen, onFocusDay }: ViewProps & { days: Day[] }) {
  const key = focusKeys('week', anchor, onFocusDay);
  return (
    <div className="cal-week" role="group" aria-label={`Week of ${viewTitle('week', anchor)}; arrow keys move between days`} onKeyDown={key}>
      {days.map((d) => {
        const fires = byDay.get(dayKey(d)) ?? [];
        const hours = [...firesByHour(fires, ctx.zone).entries()].sort((a, b) => a[0] - b[0]);
        const isToday = sameDay(d, today);
        const shaded = spansOn(d, ctx.openings, ctx.zone).length > 0;
        return (
          <section
            key={dayKey(d)}
            className={['cal-weekday', isToday ? 'cal-today' : '', shaded ? 'cal-window' : ''].filter(Boolean).join(' ')}
            aria-labelledby={`wd-${dayKey(d)}`}
          >
            <h3 id={`wd-${dayKey(d)}`}>
              <button
                type="button"
                className="cal-daynum"
                data-day={dayKey(d)}
                tabIndex={sameDay(d, anchor) ? 0 : -1}
                aria-current={isToday ? 'date' : undefined}
                onClick={() => onOpen(d)}
              >
                {dayLabel(d, { weekday: 'short', day: 'numeric', month: 'short' })}
                {isToday && <span className="cal-today-tag"> today</span>}
              </button>
            </h3>
            <WindowNotes day={d} ctx={ctx} />
            {hours.length === 0 ? (
              <p className="muted small">No fires.</p>
            ) : (
              <ul className="cal-hours">
                {hours.map(([h, list]) => (
                  <li key={h} className={hourInWindow(d, h, ctx.openings, ctx.zone).length > 0 ? 'cal-window' : undefined}>
                    <span className="cal-hour">{String(h).padStart(2, '0')}:00</span>
                    <ul className="cal-list">
                      {groupBySchedule(list).map((g) => (
                        <Group key={g.schedule_id} g={g} ctx={ctx} times={2} />
                      ))}
                    </ul>
                  </li>
                ))}
              </ul>
            )}
          </section>
        );
      })}
    </div>
  );
}

function DayView({ day, byDay, ctx }: { day: Day; byDay: Map<string, Fire[]>; ctx: Ctx }) {
  const fires = byDay.get(dayKey(day)) ?? [];
  const hours = firesByHour(fires, ctx.zone);
  return (
    <div className="table-wrap">
      <table className="table cal-day">
        <caption className="sr-only">Fires and maintenance windows on {dayLabel(day)}, by hour ({ctx.zone})</caption>
        <thead>
          <tr>
            <th scope="col">Hour</th>
            <th scope="col">Maintenance</th>
            <th scope="col">Fires</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: 24 }, (_, h) => {
            const open = hourInWindow(day, h, ctx.openings, ctx.zone);
            const list = hours.get(h) ?? [];
            return (
              <tr key={h} className={open.length > 0 ? 'cal-window' : undefined}>
                <th scope="row" className="cal-hour">{String(h).padStart(2, '0')}:00</th>
                <td>{open.length > 0 ? open.map((o) => o.window_name).join(', ') : <span className="sr-only">none</span>}</td>
                <td>
                  {list.length > 0 ? (
                    <ul className="cal-list">
                      {groupBySchedule(list).map((g) => (
                        <Group key={g.schedule_id} g={g} ctx={ctx} times={6} />
                      ))}
                    </ul>
                  ) : (
                    <span className="sr-only">none</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** `/schedules/calendar`: upcoming fires by month, week or day, in a zone
 * of the user's choice, with maintenance windows shaded and skips marked. */
export function CalendarPage() {
  useTitle('Calendar');
  const [params, setParams] = useSearchParams();
  const zoneParam = params.get('zone');
  const zone = zoneParam && isZone(zoneParam) ? zoneParam : browserZone();
  const view = (VIEWS.find((v) => v.id === params.get('view'))?.id ?? 'month') as View;
  const today = dayOf(Date.now(), zone);
  const anchor = parseDay(params.get('day')) ?? today;
  const focusNext = useRef<string | null>(null);
  const wrap = useRef<HTMLDivElement>(null);

  const go = (patch: { view?: View; day?: Day; zone?: string }, focus = false) => {
    const next = new URLSearchParams(params);
    if (patch.view) next.set('view', patch.view);
    if (patch.day) next.set('day', dayKey(patch.day));
    if (patch.zone) next.set('zone', patch.zone);
    if (focus && patch.day) focusNext.current = dayKey(patch.day);
    setParams(next, { replace: false });
  };

  const range = viewRange(view, anchor, zone);
  const ask = upcoming(range, Date.now());
  const fires = useQuery({
    queryKey: keys.calendar(ask?.from ?? 0, ask?.to ?? 0),
    queryFn: () => (ask ? fetchCalendar(ask.from, ask.to) : Promise.resolve({ items: [], truncated: false })),
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
  });
  const openings = useQuery({ queryKey: keys.windowCalendar(range.from, range.to), queryFn: () => fetchWindowCalendar(range.from, range.to) });
  const windows = useQuery({ queryKey: keys.windowList(), queryFn: fetchWindows });
  const schedules = useQuery({ queryKey: keys.list(), queryFn: () => fetchSchedules() });
  const zones = useMemo(() => allZones(), []);

  const ctx: Ctx = useMemo(
    () => ({
      zone,
      openings: openings.data?.items ?? [],
      windows: new Map((windows.data?.items ?? []).map((w) => [w.id, { id: w.id, fire_policy: w.fire_policy, scope: w.scope }])),
      paused: new Set((schedules.data?.items ?? []).filter((s) => s.paused).map((s) => s.id)),
    }),
    [zone, openings.data, windows.data, schedules.data],
  );
  const byDay = useMemo(() => firesByDay(fires.data?.items ?? [], zone), [fires.data, zone]);

  // After a keyboard move, focus the day moved to once it is drawn.
  const anchorKey = dayKey(anchor);
  useEffect(() => {
    const k = focusNext.current;
    if (!k || k !== anchorKey) return;
    const b = wrap.current?.querySelector<HTMLButtonElement>(`[data-day="${k}"]`);
    if (b) {
      b.focus();
      focusNext.current = null;
    }
  }, [anchorKey, fires.data, view]);
  const moveTo = (d: Day) => go({ day: d }, true);

  const count = fires.data?.items.length ?? 0;
  return (
    <>
      <PageHeader title="Calendar" subtitle="Upcoming fires of every enabled schedule, from now on; maintenance windows are shaded." />
      <RoomNav />
      <div className="cal-toolbar">
        <div className="row" role="group" aria-label="View">
          {VIEWS.map((v) => (
            <Button key={v.id} aria-pressed={view === v.id} variant={view === v.id ? 'primary' : 'secondary'} onClick={() => go({ view: v.id })}>
              {v.label}
            </Button>
          ))}
        </div>
        <div className="row" role="group" aria-label="Move">
          <Button onClick={() => go({ day: shiftView(view, anchor, -1) })} aria-label={`Previous ${view}`}>
            ‹ Previous
          </Button>
          <Button onClick={() => go({ day: today })}>Today</Button>
          <Button onClick={() => go({ day: shiftView(view, anchor, 1) })} aria-label={`Next ${view}`}>
            Next ›
          </Button>
        </div>
        <SelectField
          label="Time zone shown"
          value={zone}
          onChange={(e) => go({ zone: e.target.value })}
          options={(zones.includes(zone) ? zones : [zone, ...zones]).map((z) => ({ value: z, label: z === browserZone() ? `${z} (this browser)` : z }))}
        />
      </div>
      <h2 className="cal-title" aria-live="polite">
        {viewTitle(view, anchor)}
        <span className="muted small"> · {fires.isPending ? 'loading…' : `${count} fire${count === 1 ? '' : 's'}`}</span>
      </h2>
      <ProblemAlert error={fires.error ?? openings.error} />
      {fires.data?.truncated && (
        <div className="alert alert-info" role="status">
          This range holds more than {count.toLocaleString()} fires; only the first are shown. A week or day view shows all of its fires.
        </div>
      )}
      <div className="cal-legend muted small">
        <span className="cal-swatch cal-window" aria-hidden="true" /> maintenance window · <span className="badge status-skipped">skipped</span> fires that will not run ·{' '}
        <span className="cal-swatch cal-today" aria-hidden="true" /> today
      </div>
      {fires.isPending && <Loading what="the calendar" />}
      <div ref={wrap} className="cal-wrap">
        {fires.data && view === 'month' && (
          <MonthView anchor={anchor} today={today} byDay={byDay} ctx={ctx} onOpen={(d) => go({ view: 'day', day: d })} onFocusDay={moveTo} />
        )}
        {fires.data && view === 'week' && (
          <WeekView days={range.days} anchor={anchor} today={today} byDay={byDay} ctx={ctx} onOpen={(d) => go({ view: 'day', day: d })} onFocusDay={moveTo} />
        )}
        {fires.data && view === 'day' && <DayView day={anchor} byDay={byDay} ctx={ctx} />}
      </div>
    </>
  );
}
