// The palette: step types by family. Drag one onto the canvas, or press its
// "Add" button (the keyboard way) to append it to the steps.
import type { DragEvent } from 'react';
import { byFamily, type StepType } from './stepTypes';

/** The drag payload's type: the step type's name. */
export const DRAG_TYPE = 'application/x-opsc-step-type';

export function Palette({ types, onAdd, disabled }: { types: StepType[]; onAdd: (type: string) => void; disabled?: boolean }) {
  const start = (e: DragEvent, name: string) => {
    e.dataTransfer.setData(DRAG_TYPE, name);
    e.dataTransfer.effectAllowed = 'copy';
  };
  return (
    <nav className="palette" aria-label="Step types">
      <h2>Step types</h2>
      {byFamily(types).map(([family, ts]) => (
        <section key={family} className="palette-family">
          <h3>{family}</h3>
          <ul>
            {ts.map((t) => (
              <li key={t.name} draggable={!disabled} onDragStart={(e) => start(e, t.name)} title={t.description}>
                <span className="palette-name">{t.name}</span>
                <button type="button" className="btn btn-ghost btn-small" onClick={() => onAdd(t.name)} disabled={disabled} aria-label={`Add ${t.name} step`}>
                  Add
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}
