// The job's own settings: name, description, tags, parameters and default
// targets. Errors of the last save that belong to the job are shown here.
import type { FieldError } from '../../../api/types';
import { Button } from '../../../ui/Button';
import { CheckboxField, SelectField, TextArea, TextField } from '../../../ui/Field';
import type { Action, JobDoc, Json, Obj } from './model';
import { pointer } from './text';

const PARAM_TYPES = ['string', 'int', 'bool', 'enum', 'multi_select', 'secret'];

/** A comma-separated list as an array (undefined when empty). */
export function listOf(text: string): string[] | undefined {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** A parameter's default as its type reads it (a number, a boolean, a list), else the text. */
export function defaultOf(type: string, text: string): Json | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (type === 'int' && /^-?\d+$/.test(t)) return Number(t);
  if (type === 'bool' && (t === 'true' || t === 'false')) return t === 'true';
  if (type === 'multi_select') return listOf(text);
  return text;
}

function asObj(v: Json | undefined): Obj {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

function strings(v: Json | undefined): string {
  return Array.isArray(v) ? v.map(String).join(', ') : '';
}

/** `obj` with the entry `from` renamed to `to`, in place. */
function rename(obj: Obj, from: string, to: string): Obj {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k === from ? to : k, v]));
}

export function JobSettings({ doc, dispatch, errors, readOnly }: { doc: JobDoc; dispatch: (a: Action) => void; errors: FieldError[]; readOnly: boolean }) {
  const at = (...prefix: string[]) =>
    errors
      .filter((e) => pointer(e.path).slice(0, prefix.length).join('/') === prefix.join('/'))
      .map((e) => e.message)
      .join(' ') || undefined;
  const set = (key: string, value: Json | undefined) => dispatch({ kind: 'set-job', key, value });
  const params = asObj(doc.parameters);
  const targets = asObj(doc.targets);
  const setParams = (next: Obj) => set('parameters', next);
  const setParam = (name: string, key: string, value: Json | undefined) => {
    const p = { ...asObj(params[name]) };
    if (value === undefined) delete p[key];
    else p[key] = value;
    setParams({ ...params, [name]: p });
  };
  const setTarget = (key: string, text: string) => {
    const next: Obj = { ...targets };
    const v = listOf(text);
    if (v) next[key] = v;
    else delete next[key];
    set('targets', Object.keys(next).length ? next : undefined);
  };
  const newParam = () => {
    let n = Object.keys(params).length + 1;
    while (`param${n}` in params) n++;
    setParams({ ...params, [`param${n}`]: { type: 'string' } });
  };

  return (
    <fieldset className="job-settings" disabled={readOnly}>
      <legend className="sr-only">Job settings</legend>
      <TextField label="Name" value={doc.name} required error={at('name')} onChange={(e) => set('name', e.target.value)} />
      <TextArea label="Description" rows={2} value={typeof doc.description === 'string' ? doc.description : ''} error={at('description')} onChange={(e) => set('description', e.target.value)} />
      <TextField label="Tags" hint="Comma-separated." value={strings(doc.tags)} error={at('tags')} onChange={(e) => set('tags', listOf(e.target.value))} />
      <h3>Default targets</h3>
      <div className="row">
        <TextField label="Targets" hint="Names or ids, comma-separated." value={strings(targets.targets)} error={at('targets', 'targets')} onChange={(e) => setTarget('targets', e.target.value)} />
        <TextField label="Groups" hint="Names or ids, comma-separated." value={strings(targets.groups)} error={at('targets', 'groups')} onChange={(e) => setTarget('groups', e.target.value)} />
        <TextField label="Target tags" hint="All of these tags." value={strings(targets.tags)} error={at('targets', 'tags')} onChange={(e) => setTarget('tags', e.target.value)} />
      </div>
      <h3>Parameters</h3>
      {Object.keys(params).length === 0 && <p className="muted small">No parameters.</p>}
      {Object.entries(params).map(([name, raw], i) => {
        const p = asObj(raw);
        return (
          <div className="param-row card" key={i}>
            <TextField label="Parameter name" value={name} error={at('parameters', name)} onChange={(e) => setParams(rename(params, name, e.target.value))} spellCheck={false} />
            <SelectField label="Type" value={String(p.type ?? 'string')} options={PARAM_TYPES.map((t) => ({ value: t, label: t }))} onChange={(e) => setParam(name, 'type', e.target.value)} />
            <TextField label="Default" value={p.default == null ? '' : typeof p.default === 'string' ? p.default : Array.isArray(p.default) ? strings(p.default) : JSON.stringify(p.default)} onChange={(e) => setParam(name, 'default', defaultOf(String(p.type ?? 'string'), e.target.value))} />
            {(p.type === 'enum' || p.type === 'multi_select') && (
              <TextField label="Choices" hint="Comma-separated." value={strings(p.choices)} onChange={(e) => setParam(name, 'choices', listOf(e.target.value))} />
            )}
            <TextField label="Parameter description" value={typeof p.description === 'string' ? p.description : ''} onChange={(e) => setParam(name, 'description', e.target.value || undefined)} />
            <CheckboxField label={`${name} is required`} checked={p.required === true} onChange={(e) => setParam(name, 'required', e.target.checked ? true : undefined)} />
            {!readOnly && (
              <Button
                variant="ghost"
                onClick={() => {
                  const next = { ...params };
                  delete next[name];
                  setParams(next);
                }}
              >
                Remove parameter {name}
              </Button>
            )}
          </div>
        );
      })}
      {!readOnly && <Button onClick={newParam}>Add parameter</Button>}
    </fieldset>
  );
}
