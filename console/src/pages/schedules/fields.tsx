// Form fields of the room: a job parameter by its type, and a pick list.
import { CheckboxField, SelectField, TextField } from '../../ui/Field';
import type { FormValue, ParamSpec } from '../jobs/params';

/** One parameter of the job, as its type asks (secrets masked). */
export function ParamField({ name, spec, value, error, onChange }: { name: string; spec: ParamSpec; value: FormValue; error?: string; onChange: (v: FormValue) => void }) {
  const label = spec.required ? `${name} (required)` : name;
  const hint = spec.description || undefined;
  switch (spec.type) {
    case 'bool':
      return (
        <div className={error ? 'field field-error' : 'field'}>
          <CheckboxField label={name} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {hint && <div className="field-hint">{hint}</div>}
          {error && (
            <div className="field-message" role="alert">
              {error}
            </div>
          )}
        </div>
      );
    case 'enum':
      return (
        <SelectField
          label={label}
          hint={hint}
          error={error}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value)}
          options={[{ value: '', label: spec.default !== null && spec.default !== undefined ? `Default (${String(spec.default)})` : 'Choose…' }, ...(spec.choices ?? []).map((c) => ({ value: c, label: c }))]}
        />
      );
    case 'multi_select': {
      const list = Array.isArray(value) ? value : [];
      return <PickList legend={label} items={(spec.choices ?? []).map((c) => ({ id: c, name: c }))} chosen={list} onChange={onChange} error={error} />;
    }
    default:
      return (
        <TextField
          label={label}
          hint={spec.type === 'secret' ? 'Secret: stored encrypted, never shown again.' : hint}
          error={error}
          type={spec.type === 'secret' ? 'password' : 'text'}
          inputMode={spec.type === 'int' ? 'numeric' : undefined}
          autoComplete={spec.type === 'secret' ? 'new-password' : 'off'}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value)}
        />
      );
  }
}

/** Checkboxes for choosing several of `items`. */
export function PickList({ legend, items, chosen, onChange, error }: { legend: string; items: { id: string; name: string }[]; chosen: string[]; onChange: (ids: string[]) => void; error?: string }) {
  return (
    <fieldset className={error ? 'field field-error sched-picklist' : 'field sched-picklist'}>
      <legend>{legend}</legend>
      {items.length === 0 && <p className="muted small">None.</p>}
      {items.map((t) => (
        <CheckboxField key={t.id} label={t.name} checked={chosen.includes(t.id)} onChange={(e) => onChange(e.target.checked ? [...chosen, t.id] : chosen.filter((x) => x !== t.id))} />
      ))}
      {error && (
        <div className="field-message" role="alert">
          {error}
        </div>
      )}
    </fieldset>
  );
}
