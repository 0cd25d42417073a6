// One field of a job's typed parameters, as its type asks: the run dialog
// and the schedule editor ask for the same parameters the same way.
import { CheckboxField, SelectField, TextField, FieldMessage } from '../../ui/Field';
import { PickList, type PickListLook } from '../../ui/PickList';
import type { FormValue, ParamSpec } from './params';

/** What differs between the forms that ask for parameters. */
export interface ParamLook {
  /** The hint under a secret field: what becomes of the value typed. */
  secretHint: string;
  /** How a multi_select parameter's choices are dressed. */
  choices: PickListLook;
  /** Whether a multi_select shows the parameter's description (the
   * schedule editor has not so far). */
  choicesHint: boolean;
}

/** One parameter of the job, as its type asks (secrets masked). */
export function ParamField({ name, spec, value, error, onChange, look }: {
  name: string;
  spec: ParamSpec;
  value: FormValue;
  error?: string;
  onChange: (v: FormValue) => void;
  look: ParamLook;
}) {
  const label = spec.required ? `${name} (required)` : name;
  const hint = spec.description || undefined;
  switch (spec.type) {
    case 'bool':
      return (
        <div className={error ? 'field field-error' : 'field'}>
          <CheckboxField label={name} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {hint && <div className="field-hint">{hint}</div>}
          <FieldMessage error={error} />
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
    case 'multi_select':
      return (
        <PickList
          legend={label}
          hint={look.choicesHint ? hint : undefined}
          items={(spec.choices ?? []).map((c) => ({ id: c, name: c }))}
          chosen={Array.isArray(value) ? value : []}
          onChange={onChange}
          error={error}
          look={look.choices}
        />
      );
    default:
      return (
        <TextField
          label={label}
          hint={spec.type === 'secret' ? look.secretHint : hint}
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
