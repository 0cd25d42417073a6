import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

interface Wrap {
  label: string;
  hint?: ReactNode;
  error?: string;
}

function Frame({ id, label, hint, error, children }: Wrap & { id: string; children: ReactNode }) {
  return (
    <div className={error ? 'field field-error' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && <div className="field-hint" id={`${id}-hint`}>{hint}</div>}
      <FieldMessage id={`${id}-error`} error={error} />
    </div>
  );
}

/** A field's or a fieldset's problem, announced as it appears; nothing without one. */
export function FieldMessage({ error, id }: { error?: string; id?: string }) {
  if (!error) return null;
  return (
    <div className="field-message" id={id} role="alert">
      {error}
    </div>
  );
}

function describedBy(id: string, w: Wrap): string | undefined {
  return [w.hint ? `${id}-hint` : '', w.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
}

export function TextField({ label, hint, error, ...rest }: Wrap & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, { label, hint, error })} {...rest} />
    </Frame>
  );
}

export function TextArea({ label, hint, error, ...rest }: Wrap & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <textarea id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, { label, hint, error })} {...rest} />
    </Frame>
  );
}

export function SelectField({
  label,
  hint,
  error,
  options,
  ...rest
}: Wrap & SelectHTMLAttributes<HTMLSelectElement> & { options: { value: string; label: string }[] }) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <select id={id} aria-invalid={error ? true : undefined} aria-describedby={describedBy(id, { label, hint, error })} {...rest}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Frame>
  );
}

export function CheckboxField({ label, ...rest }: { label: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <div className="field field-check">
      <input id={id} type="checkbox" {...rest} />
      <label htmlFor={id}>{label}</label>
    </div>
  );
}
