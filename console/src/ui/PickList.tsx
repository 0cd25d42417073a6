// Checkboxes for choosing several of a list, as one fieldset: the target,
// group and job pickers of the editors and a multi-select parameter's choices.
import type { ReactNode } from 'react';
import { toggled } from '../lib/lists';
import { CheckboxField, FieldMessage } from './Field';

/** How a room dresses its pick lists: the fieldset's own class (its height
 * and scrolling) and the class of the "None." note of an empty list. */
export interface PickListLook {
  className: string;
  noneClassName: string;
}

/** Checkboxes for choosing several of `items`; `hint` and `error` stand
 * under the legend and the boxes as a field's would. */
export function PickList({ legend, items, chosen, onChange, hint, error, look }: {
  legend: string;
  items: { id: string; name: string }[];
  chosen: string[];
  onChange: (ids: string[]) => void;
  hint?: ReactNode;
  error?: string;
  look: PickListLook;
}) {
  return (
    <fieldset className={['field', error && 'field-error', look.className].filter(Boolean).join(' ')}>
      <legend>{legend}</legend>
      {hint && <div className="field-hint">{hint}</div>}
      {items.length === 0 && <p className={look.noneClassName}>None.</p>}
      {items.map((t) => (
        <CheckboxField key={t.id} label={t.name} checked={chosen.includes(t.id)} onChange={(e) => onChange(toggled(chosen, t.id, e.target.checked))} />
      ))}
      <FieldMessage error={error} />
    </fieldset>
  );
}
