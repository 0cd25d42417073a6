// The side form of the selected step: its `with` settings drawn from the
// type's schema, then id, name, `when`, retry, timeout and
// continue_on_error. Errors from the last save are shown at their field, or
// listed when no field holds them (a mistyped key).
import { Button } from '../../../ui/Button';
import { CheckboxField, TextField } from '../../../ui/Field';
import type { PlacedErrors } from './errors';
import { FieldInput } from './FieldInput';
import type { Action, Json, Obj } from './model';
import { fieldsOf, type FormField } from './schemaForm';
import type { StepType } from './stepTypes';

interface Props {
  step: Obj;
  index: number;
  count: number;
  stepType: StepType | undefined;
  errors: PlacedErrors['steps'][string];
  dispatch: (a: Action) => void;
  readOnly: boolean;
}

function asObj(v: Json | undefined): Obj {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

const num = (text: string): Json | undefined => (text.trim() === '' ? undefined : /^\d+$/.test(text.trim()) ? Number(text) : text);

export function StepForm({ step, index, count, stepType, errors, dispatch, readOnly }: Props) {
  const withValues = asObj(step.with);
  const fields: FormField[] = stepType ? fieldsOf(stepType.with_schema) : [];
  const known = new Set(fields.map((f) => f.key));
  // `with` keys the schema does not know still get a field (as JSON), so nothing is hidden.
  for (const k of Object.keys(withValues)) if (!known.has(k)) fields.push({ key: k, kind: 'json', required: false, description: 'Not a setting of this step type.' });
  const errorAt = (scope: 'with' | 'step', key: string) => errors.filter((e) => e.scope === scope && e.key === key).map((e) => e.message).join(' ') || undefined;
  const shown = new Set([...fields.map((f) => `with/${f.key}`), 'step/id', 'step/name', 'step/type', 'step/when', 'step/timeout_secs', 'step/continue_on_error', 'step/retry']);
  const elsewhere = errors.filter((e) => !e.key || !shown.has(`${e.scope}/${e.key}`));
  const retry = asObj(step.retry);
  const set = (key: string, value: Json | undefined) => dispatch({ kind: 'set-step', index, key, value });
  const setRetry = (key: string, value: Json | undefined) => {
    const next: Obj = { ...retry };
    if (value === undefined) delete next[key];
    else next[key] = value;
    set('retry', Object.keys(next).length ? next : undefined);
  };

  return (
    <section className="step-form card" aria-labelledby="step-form-title">
      <h2 id="step-form-title">
        Step {index + 1}: {String(step.id ?? '')}
      </h2>
      <p className="muted small">{stepType ? stepType.description : `Type ${String(step.type ?? '')}`}</p>
      {elsewhere.length > 0 && (
        <div className="alert alert-error" role="alert">
          <strong>This step was refused</strong>
          <ul className="alert-list">
            {elsewhere.map((e, i) => (
              <li key={i}>
                <code>{e.path}</code> {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <fieldset disabled={readOnly}>
        <legend>Settings ({String(step.type ?? '')})</legend>
        {fields.length === 0 && <p className="muted small">No settings known for this type.</p>}
        {fields.map((f) => (
          <FieldInput
            key={`${index}-${f.key}`}
            field={f}
            value={withValues[f.key]}
            error={errorAt('with', f.key)}
            readOnly={readOnly}
            onChange={(v) => dispatch({ kind: 'set-with', index, key: f.key, value: v })}
          />
        ))}
      </fieldset>
      <fieldset disabled={readOnly}>
        <legend>Step</legend>
        <TextField label="Step id" value={String(step.id ?? '')} error={errorAt('step', 'id')} onChange={(e) => set('id', e.target.value)} spellCheck={false} />
        <TextField label="Step name" value={typeof step.name === 'string' ? step.name : ''} error={errorAt('step', 'name')} onChange={(e) => set('name', e.target.value || undefined)} />
        <TextField label="Step type" value={String(step.type ?? '')} error={errorAt('step', 'type')} onChange={(e) => set('type', e.target.value)} spellCheck={false} />
        <TextField
          label="Run when"
          hint="A template expression, e.g. {{ steps.check.exit_code == 0 }}. Empty: always."
          value={typeof step.when === 'string' ? step.when : ''}
          error={errorAt('step', 'when')}
          onChange={(e) => set('when', e.target.value || undefined)}
          spellCheck={false}
        />
        <TextField label="Timeout (seconds)" hint="Default 300." inputMode="numeric" value={step.timeout_secs == null ? '' : String(step.timeout_secs)} error={errorAt('step', 'timeout_secs')} onChange={(e) => set('timeout_secs', num(e.target.value))} />
        <div className="row">
          <TextField label="Retry attempts" hint="0 to 10." inputMode="numeric" value={retry.attempts == null ? '' : String(retry.attempts)} error={errorAt('step', 'retry')} onChange={(e) => setRetry('attempts', num(e.target.value))} />
          <TextField label="Retry backoff (seconds)" inputMode="numeric" value={retry.backoff_secs == null ? '' : String(retry.backoff_secs)} onChange={(e) => setRetry('backoff_secs', num(e.target.value))} />
        </div>
        <CheckboxField label="Continue on error" checked={step.continue_on_error === true} onChange={(e) => set('continue_on_error', e.target.checked ? true : undefined)} />
      </fieldset>
      {!readOnly && (
        <div className="form-actions">
          <Button onClick={() => dispatch({ kind: 'move-step', from: index, to: index - 1 })} disabled={index === 0}>
            Move up
          </Button>
          <Button onClick={() => dispatch({ kind: 'move-step', from: index, to: index + 1 })} disabled={index >= count - 1}>
            Move down
          </Button>
          <Button variant="danger" onClick={() => dispatch({ kind: 'remove-step', index })}>
            Remove step
          </Button>
        </div>
      )}
    </section>
  );
}
