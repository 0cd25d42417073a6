// The run form's values and the typed `parameters` of a run request:
// what a person typed (strings, checkboxes) becomes the job's types, and
// a 422's `/parameters/<name>` paths land next to the right field.
import type { Schemas } from '../../api/types';
import type { FieldError } from '../../api/types';

/** A job's parameter as its definition declares it (fields with defaults
 * may be absent in a stored document). */
export type ParamSpec = Pick<Schemas['Parameter'], 'type'> & Partial<Omit<Schemas['Parameter'], 'type'>>;

/** One field's value in the form. */
export type FormValue = string | boolean | string[];

/** The form: a value per parameter name. */
export type FormValues = Record<string, FormValue>;

/** The form before anyone typed: defaults shown (never a secret's). */
export function initialValues(specs: Record<string, ParamSpec>): FormValues {
  const out: FormValues = {};
  for (const [name, p] of Object.entries(specs)) {
    const d: unknown = p.default;
    switch (p.type) {
      case 'bool':
        out[name] = d === true;
        break;
      case 'multi_select':
        out[name] = Array.isArray(d) ? d.map(String) : [];
        break;
      case 'secret':
        out[name] = '';
        break;
      default:
        out[name] = d === null || d === undefined ? '' : String(d);
    }
  }
  return out;
}

/** The request's parameters, or each field's problem. */
export interface Converted {
  parameters: Record<string, unknown>;
  errors: Record<string, string>;
}

function hasDefault(p: ParamSpec): boolean {
  return p.default !== null && p.default !== undefined;
}

/** Converts the form into typed values. An empty optional field (or one
 * with a default) is left out, so the job's default applies; an empty
 * required field without a default is an error. */
export function toParameters(specs: Record<string, ParamSpec>, values: FormValues): Converted {
  const parameters: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [name, p] of Object.entries(specs)) {
    const v = values[name];
    const mustGive = (p.required ?? false) && !hasDefault(p);
    if (p.type === 'bool') {
      parameters[name] = v === true;
      continue;
    }
    if (p.type === 'multi_select') {
      const list = Array.isArray(v) ? v : [];
      if (list.length === 0) {
        if (mustGive) errors[name] = 'Choose at least one.';
        continue;
      }
      const unknown = list.find((c) => !(p.choices ?? []).includes(c));
      if (unknown !== undefined) errors[name] = `Not one of the choices: ${unknown}`;
      else parameters[name] = list;
      continue;
    }
    const text = typeof v === 'string' ? v : '';
    const blank = p.type === 'secret' || p.type === 'string' ? text === '' : text.trim() === '';
    if (blank) {
      if (mustGive) errors[name] = 'Required.';
      continue;
    }
    switch (p.type) {
      case 'int': {
        const t = text.trim();
        const n = Number(t);
        if (!/^[-+]?\d+$/.test(t) || !Number.isSafeInteger(n)) errors[name] = 'Must be a whole number.';
        else parameters[name] = n;
        break;
      }
      case 'enum':
        if (!(p.choices ?? []).includes(text)) errors[name] = 'Choose one of the choices.';
        else parameters[name] = text;
        break;
      case 'string':
        if (p.pattern && !matchesWhole(p.pattern, text)) errors[name] = `Must match ${p.pattern}.`;
        else parameters[name] = text;
        break;
      default:
        parameters[name] = text;
    }
  }
  return { parameters, errors };
}

function matchesWhole(pattern: string, text: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u').test(text);
  } catch {
    // The API checks with its own regex dialect; do not block on ours.
    return true;
  }
}

/** `/parameters/<name>` problems by parameter name (JSON Pointer unescaped);
 * the rest stay for the form's alert. */
export function parameterErrors(errors: FieldError[]): { byName: Record<string, string>; rest: FieldError[] } {
  const byName: Record<string, string> = {};
  const rest: FieldError[] = [];
  for (const e of errors) {
    const m = /^\/parameters\/([^/]+)/.exec(e.path);
    if (m?.[1] !== undefined) {
      const name = m[1].replace(/~1/g, '/').replace(/~0/g, '~');
      byName[name] = byName[name] ? `${byName[name]} ${e.message}` : e.message;
    } else {
      rest.push(e);
    }
  }
  return { byName, rest };
}
