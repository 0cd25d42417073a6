// A step type's `with_schema` (JSON Schema) as form fields, and the values
// the fields write back. Any field also takes a template (`{{ … }}`): text
// that the worker renders.
import type { Json, Obj } from './model';

/** The kinds of field the side form draws. */
export type FieldKind = 'string' | 'text' | 'number' | 'boolean' | 'enum' | 'strings' | 'map' | 'json';

export interface FormField {
  key: string;
  kind: FieldKind;
  required: boolean;
  description?: string;
  options?: string[];
  default?: Json;
}

type Schema = Record<string, unknown>;

const MULTILINE = new Set(['command', 'script', 'body', 'content', 'text', 'message']);

function isTemplateBranch(s: Schema): boolean {
  return s.type === 'string' && typeof s.pattern === 'string' && s.pattern.includes('\\{\\{');
}

function typesOf(s: Schema): string[] {
  return Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
}

/** The field kind of one property schema. */
export function kindOf(key: string, schema: Schema): Pick<FormField, 'kind' | 'options'> {
  if (Array.isArray(schema.enum)) return { kind: 'enum', options: schema.enum.map(String) };
  const branches = (Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : []) as Schema[];
  if (branches.length > 0) {
    // The first branch that is not "a template" or "a number as text" says what it is.
    const main = branches.find((b) => !isTemplateBranch(b) && !(b.type === 'string' && b.pattern)) ?? branches[0];
    return main ? kindOf(key, main) : { kind: 'json' };
  }
  const types = typesOf(schema);
  if (types.length === 1) {
    switch (types[0]) {
      case 'string':
        return { kind: MULTILINE.has(key) ? 'text' : 'string' };
      case 'integer':
      case 'number':
        return { kind: 'number' };
      case 'boolean':
        return { kind: 'boolean' };
      case 'array': {
        const items = (schema.items ?? {}) as Schema;
        return typesOf(items).join() === 'string' ? { kind: 'strings' } : { kind: 'json' };
      }
      case 'object': {
        const extra = schema.additionalProperties;
        const scalar = extra && typeof extra === 'object' && typesOf(extra as Schema).every((t) => ['string', 'number', 'boolean'].includes(t));
        return { kind: scalar && !schema.properties ? 'map' : 'json' };
      }
    }
  }
  return { kind: 'json' };
}

/** The form fields of a `with_schema`: required ones first, then in schema order. */
export function fieldsOf(withSchema: unknown): FormField[] {
  const s = (withSchema ?? {}) as Schema;
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const fields = Object.entries(props).map(([key, p]) => ({
    key,
    required: required.has(key),
    description: typeof p.description === 'string' ? p.description : undefined,
    default: p.default as Json | undefined,
    ...kindOf(key, p),
  }));
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/** What a field shows for `value`. */
export function display(kind: FieldKind, value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  switch (kind) {
    case 'strings':
      return Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join('\n') : String(value);
    case 'map':
      return value && typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value)
            .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
            .join('\n')
        : String(value);
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    default:
      return typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** The value a field writes for what the user typed (undefined: unset). A
 * text that is not a number or boolean stays text (a template). */
export function parseField(kind: FieldKind, input: string): Json | undefined {
  const t = input.trim();
  switch (kind) {
    case 'string':
    case 'text':
    case 'enum':
      return input === '' ? undefined : input;
    case 'number':
      return t === '' ? undefined : /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : input;
    case 'boolean':
      return t === '' ? undefined : t === 'true' ? true : t === 'false' ? false : input;
    case 'strings': {
      const items = input.split('\n').filter((l) => l.trim() !== '');
      return items.length ? items : undefined;
    }
    case 'map': {
      const out: Obj = {};
      for (const line of input.split('\n')) {
        if (line.trim() === '') continue;
        const eq = line.indexOf('=');
        const k = (eq < 0 ? line : line.slice(0, eq)).trim();
        if (k) out[k] = eq < 0 ? '' : line.slice(eq + 1);
      }
      return Object.keys(out).length ? out : undefined;
    }
    case 'json':
      if (t === '') return undefined;
      try {
        return JSON.parse(t) as Json;
      } catch {
        return input;
      }
  }
}
