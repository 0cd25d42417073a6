// The run's timeline: one row per target, one bar per step attempt,
// coloured by status (and named in words), growing while the step runs.
// A bar is a button that shows that step's output.
import { dateTime, duration } from '../../lib/format';
import { layoutTimeline, ticks, type StepTiming } from './lib/timeline';

export function Timeline({ steps, now, targetName, onPick, picked }: {
  steps: StepTiming[];
  now: number;
  targetName: (id: string | null) => string;
  onPick: (s: StepTiming) => void;
  picked: string | null;
}) {
  const layout = layoutTimeline(steps, now);
  if (layout.rows.length === 0) return <p className="muted">No step has started yet.</p>;
  const axis = ticks(layout);
  const t0 = layout.start;
  return (
    <div className="tl" role="group" aria-label="Timeline of the run's steps">
      <div className="tl-axis" aria-hidden="true">
        <span />
        <div className="tl-ticks">
          {axis.map((t) => (
            <span key={t.pct} className="tl-tick" style={{ left: `${t.pct}%` }}>
              +{duration(t.at - t0)}
            </span>
          ))}
        </div>
      </div>
      {layout.rows.map((row) => {
        const name = targetName(row.targetId);
        return (
          <div className="tl-row" key={row.targetId ?? ''} role="group" aria-label={`Steps on ${name}`}>
            <div className="tl-label" title={name}>
              {name}
            </div>
            <div className="tl-track">
              {row.bars.map((b) => {
                const key = `${b.step.step_id}\u0000${b.step.target_id ?? ''}`;
                const running = !b.step.finished_at;
                return (
                  <button
                    type="button"
                    key={`${key}-${b.step.attempt}`}
                    className={`tl-bar status-${b.step.status.replace(/[^a-z_]/g, '')}${running ? ' tl-running' : ''}${picked === key ? ' tl-picked' : ''}`}
                    style={{ left: `${b.left}%`, width: `${b.width}%` }}
                    title={`${b.step.step_id}: ${b.step.status}, ${duration(b.ms)} (started ${dateTime(b.step.started_at)})`}
                    aria-label={`${b.step.step_id} on ${name}: ${b.step.status.replace(/_/g, ' ')}, ${duration(b.ms)}${b.step.attempt > 1 ? `, attempt ${b.step.attempt}` : ''}. Show its output`}
                    onClick={() => onPick(b.step)}
                  >
                    <span className="tl-bar-text">{b.step.step_id}</span>
                  </button>
                );
              })}
              {row.pending.map((p) => (
                <span key={p.step_id} className="sr-only">
                  {p.step_id}: {p.status}
                </span>
              ))}
            </div>
          </div>
        );
      })}
    </div>
  );
}
