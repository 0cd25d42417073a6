// What the definition says without what goes without saying: the API hands
// back every field (`name: null`, `retry: null`, `continue_on_error: false`
// …); the editor writes, compares and sends the definition without the
// values that equal the default (schemas/openapi.json: JobDefinition, Step,
// Parameter, Retry, RetryPolicy, ConcurrencyLimit, TargetSelection). Only
// known fields are tidied: an unknown key is kept as written, for the API
// to refuse, and a step's `with` settings are its type's business.
import type { JobDoc, Json, Obj } from './model';

/** A part of the definition: its nullable fields (null is the default),
 * the defaults of other fields, and the parts inside it. */
interface Shape {
  nullable?: readonly string[];
  defaults?: Readonly<Record<string, Json>>;
  /** Fields holding one object of a shape. */
  objects?: Readonly<Record<string, Shape>>;
  /** Fields holding a list of objects of a shape. */
  lists?: Readonly<Record<string, Shape>>;
  /** Fields holding a map of name → object of a shape. */
  maps?: Readonly<Record<string, Shape>>;
}

const SELECTION: Shape = { defaults: { groups: [], tags: [], targets: [] } };

const STEP: Shape = {
  nullable: ['name', 'targets', 'timeout_secs', 'retry', 'when', 'idempotent'],
  defaults: { continue_on_error: false, with: {} },
  objects: { targets: SELECTION, retry: { defaults: { backoff_secs: 1 } } },
};

const PARAMETER: Shape = {
  nullable: ['default', 'pattern'],
  defaults: { choices: [], description: '', required: false },
};

const RETRY_POLICY: Shape = {
  defaults: {
    backoff: 2,
    delay_secs: 30,
    jitter_pct: 10,
    max_delay_secs: 3600,
    on: ['timed_out', 'connection_error', 'worker_lost'],
    exit_codes: [],
  },
};

const JOB: Shape = {
  nullable: ['targets', 'pool', 'parallelism', 'keep_going', 'timeout_secs', 'retry', 'concurrency'],
  defaults: { description: '', parameters: {}, tags: [], critical: false },
  objects: { targets: SELECTION, retry: RETRY_POLICY, concurrency: { defaults: { policy: 'queue' } } },
  lists: { steps: STEP },
  maps: { parameters: PARAMETER },
};

function isObj(v: Json | undefined): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Whether two JSON values are the same (key order aside). */
function same(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i] as Json));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && same(a[k] as Json, b[k] as Json));
  }
  return false;
}

function tidyObj(o: Obj, shape: Shape): Obj {
  const out: Obj = {};
  for (const [k, raw] of Object.entries(o)) {
    let v: Json | undefined = raw;
    if (v === undefined) continue;
    if (v === null && shape.nullable?.includes(k)) continue;
    const inner = shape.objects?.[k];
    if (inner && isObj(v)) v = tidyObj(v, inner);
    const item = shape.lists?.[k];
    if (item && Array.isArray(v)) v = v.map((x) => (isObj(x) ? tidyObj(x, item) : x));
    const entry = shape.maps?.[k];
    if (entry && isObj(v)) v = Object.fromEntries(Object.entries(v).map(([n, x]) => [n, isObj(x) ? tidyObj(x, entry) : x]));
    const d = shape.defaults?.[k];
    if (d !== undefined && same(v, d)) continue;
    out[k] = v;
  }
  return out;
}

/** `doc` without the values that are the defaults, keys in their order.
 * It means the same job; tidying twice changes nothing more. */
export function tidy(doc: JobDoc): JobDoc {
  return tidyObj(doc, JOB) as JobDoc;
}
