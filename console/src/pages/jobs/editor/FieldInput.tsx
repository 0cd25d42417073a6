// One `with` field of the side form. It keeps what the user types (a list
// being typed line by line, a half-written template) and writes the value
// the text means.
import { useId, useState } from 'react';
import { TextArea, TextField } from '../../../ui/Field';
import type { Json } from './model';
import { display, parseField, type FormField } from './schemaForm';
import { normalise } from './model';

interface Props {
  field: FormField;
  value: Json | undefined;
  error?: string;
  onChange: (value: Json | undefined) => void;
  readOnly: boolean;
}

export function FieldInput({ field, value, error, onChange, readOnly }: Props) {
  const [draft, setDraft] = useState(() => display(field.kind, value));
  // Follow changes made elsewhere (the YAML view) unless the draft already means them.
  const [seen, setSeen] = useState(value);
  if (normalise(seen) !== normalise(value)) {
    setSeen(value);
    if (normalise(parseField(field.kind, draft)) !== normalise(value)) setDraft(display(field.kind, value));
  }
  const listId = useId();
  const label = `${field.key}${field.required ? ' (required)' : ''}`;
  const hintParts = [field.description, field.kind === 'strings' ? 'One per line.' : '', field.kind === 'map' ? 'One NAME=value per line.' : '', field.kind === 'json' ? 'JSON.' : ''];
  if (field.default !== undefined && field.default !== null) hintParts.push(`Default: ${JSON.stringify(field.default)}.`);
  const hint = hintParts.filter(Boolean).join(' ') || undefined;
  const change = (text: string) => {
    setDraft(text);
    const v = parseField(field.kind, text);
    setSeen(v);
    onChange(v);
  };
  const common = { label, hint, error, value: draft, readOnly, required: field.required, onChange: (e: { target: { value: string } }) => change(e.target.value) };
  if (field.kind === 'text' || field.kind === 'strings' || field.kind === 'map' || field.kind === 'json') {
    return <TextArea {...common} rows={field.kind === 'text' ? 3 : 4} spellCheck={false} />;
  }
  const options = field.kind === 'boolean' ? ['true', 'false'] : field.kind === 'enum' ? (field.options ?? []) : [];
  return (
    <>
      <TextField {...common} list={options.length ? listId : undefined} inputMode={field.kind === 'number' ? 'decimal' : undefined} spellCheck={false} autoComplete="off" />
      {options.length > 0 && (
        <datalist id={listId}>
          {options.map((o) => (
            <option key={o} value={o} />
          ))}
        </datalist>
      )}
    </>
  );
}
