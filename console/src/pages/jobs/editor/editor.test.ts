import { describe, expect, it } from 'vitest';
import { contextAt } from './completion';
import { tidy } from './defaults';
import { placeErrors, stepOfPath } from './errors';
import { asJobDoc, connectOrder, editorReducer, emptyJob, isDirty, type JobDoc } from './model';
import { display, fieldsOf, parseField } from './schemaForm';
import { locate, parseText, toText } from './text';

const job: JobDoc = asJobDoc({
  name: 'restart',
  description: '',
  zeta_unknown: { keep: true },
  steps: [
    { id: 'check', type: 'ssh.exec', with: { command: 'true', sudo: false }, future_field: 1 },
    { type: 'wait', id: 'pause', with: { seconds: 5 } },
    { id: 'go', type: 'ssh.exec', with: { comand: 'systemctl restart {{ params.svc }}' } },
  ],
  parameters: {},
});

describe('text ↔ model', () => {
  it('round-trips YAML and JSON keeping order and unknown fields', () => {
    for (const format of ['yaml', 'json'] as const) {
      const text = toText(job, format);
      const back = parseText(text, format);
      expect(back.ok).toBe(true);
      if (!back.ok) return;
      // The text leaves the defaults out (description '', parameters {}).
      expect(JSON.stringify(back.doc)).toBe(JSON.stringify(tidy(job)));
      expect(Object.keys(back.doc)).toEqual(['name', 'zeta_unknown', 'steps']);
      expect(Object.keys(back.doc.steps[1] ?? {})).toEqual(['type', 'id', 'with']);
      expect(back.doc.zeta_unknown).toEqual({ keep: true });
      // text → model → text is stable.
      expect(toText(back.doc, format)).toBe(text);
      expect(isDirty(back.doc, job)).toBe(false);
    }
  });

  it('reports invalid YAML with line and column and no model', () => {
    const r = parseText('name: x\nsteps:\n  - id: a\n   bad: [\n', 'yaml');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]?.line).toBeGreaterThan(1);
    expect(r.problems[0]?.column).toBeGreaterThan(0);
  });

  it('reports invalid JSON at a position', () => {
    const r = parseText('{"name": "x",\n "steps": [}', 'json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.line).toBe(2);
  });

  it('refuses a document that is not a mapping', () => {
    expect(parseText('- a\n- b\n', 'yaml').ok).toBe(false);
  });

  it('locates an error path at its key', () => {
    const text = toText(job, 'yaml');
    const at = locate(text, '/steps/2/with/comand');
    expect(at).not.toBeNull();
    expect(text.slice(at?.from, at?.to)).toBe('comand');
    const parent = locate(text, '/steps/1/with/nothing');
    expect(text.slice(parent?.from, parent?.to)).toBe('with');
    expect(locate('a: [', '/a')).toBeNull();
  });
});

// A definition as the API hands it back: every field, null or default.
const saved = asJobDoc({
  name: 'three',
  description: '',
  parameters: {
    svc: { type: 'string', description: '', required: false, choices: [], default: null, pattern: null },
    env: { type: 'enum', description: 'Where', required: true, choices: ['a', 'b'], default: 'a', pattern: null },
  },
  targets: null,
  pool: null,
  parallelism: null,
  keep_going: null,
  timeout_secs: null,
  steps: [1, 2, 3].map((n) => ({
    id: `ssh_exec_${n}`,
    name: null,
    type: 'ssh.exec',
    targets: null,
    with: { command: `echo ${n}`, sudo: false },
    timeout_secs: null,
    retry: null,
    continue_on_error: false,
    when: null,
    idempotent: null,
  })),
});

describe('defaults left out', () => {
  it('drops nulls, empty optional objects and default values, keeping order', () => {
    const t = tidy(saved);
    expect(Object.keys(t)).toEqual(['name', 'parameters', 'steps']);
    expect(t.parameters).toEqual({ svc: { type: 'string' }, env: { type: 'enum', description: 'Where', required: true, choices: ['a', 'b'], default: 'a' } });
    // `with` is the step type's: its values stay as written.
    expect(t.steps[0]).toEqual({ id: 'ssh_exec_1', type: 'ssh.exec', with: { command: 'echo 1', sudo: false } });
    expect(tidy(t)).toEqual(t);
    const yaml = toText(saved, 'yaml');
    expect(yaml).not.toMatch(/null|continue_on_error|description: ""|parameters: \{\}/);
    expect(yaml.split('\n').filter((l) => l.includes('command:'))).toEqual(['      command: echo 1', '      command: echo 2', '      command: echo 3']);
  });

  it('keeps what is not a default: unknown keys, nulls of required fields, set values', () => {
    const doc = asJobDoc({
      name: 'x',
      stray: null,
      critical: true,
      retry: { max_retries: 2, backoff: 2.0, delay_secs: 60, on: ['timed_out'] },
      concurrency: { max: 1, policy: 'queue' },
      targets: { groups: [], tags: ['web'], targets: [] },
      steps: [{ id: 'a', type: 'wait', with: { seconds: null }, continue_on_error: true, retry: { attempts: 3, backoff_secs: 1 }, timeout_secs: 10, weird: null }],
    });
    expect(tidy(doc)).toEqual({
      name: 'x',
      stray: null,
      critical: true,
      retry: { max_retries: 2, delay_secs: 60, on: ['timed_out'] },
      concurrency: { max: 1 },
      targets: { tags: ['web'] },
      steps: [{ id: 'a', type: 'wait', with: { seconds: null }, continue_on_error: true, retry: { attempts: 3 }, timeout_secs: 10, weird: null }],
    });
  });

  it('round-trips the API’s form stably in both formats, and loading is not a change', () => {
    for (const format of ['yaml', 'json'] as const) {
      const text = toText(saved, format);
      const back = parseText(text, format);
      expect(back.ok).toBe(true);
      if (!back.ok) return;
      expect(toText(back.doc, format)).toBe(text);
      expect(isDirty(back.doc, saved)).toBe(false);
      expect(isDirty(saved, back.doc)).toBe(false);
    }
    const changed = editorReducer({ doc: tidy(saved), origin: 'load' }, { kind: 'set-step', index: 1, key: 'continue_on_error', value: true });
    expect(isDirty(changed.doc, saved)).toBe(true);
  });
});

describe('errors → nodes', () => {
  it('maps paths to the step, by id, and the rest to the job', () => {
    expect(stepOfPath('/steps/2/with/comand')).toEqual({ index: 2, scope: 'with', key: 'comand' });
    expect(stepOfPath('/steps/0/timeout_secs')).toEqual({ index: 0, scope: 'step', key: 'timeout_secs' });
    expect(stepOfPath('/name')).toBeNull();
    const placed = placeErrors(
      [
        { path: '/steps/2/with/comand', message: 'unknown key comand (did you mean command?)' },
        { path: '/steps/2/with', message: 'command is required' },
        { path: '/name', message: 'taken' },
        { path: '/steps/9/id', message: 'no such step' },
      ],
      job,
    );
    expect(placed.steps.go?.map((e) => e.key)).toEqual(['comand', undefined]);
    expect(placed.steps['#9']).toBeUndefined();
    expect(placed.job.map((e) => e.path)).toEqual(['/name', '/steps/9/id']);
  });
});

describe('dirty', () => {
  it('is clean right after load and after a YAML format round trip', () => {
    const loaded = editorReducer({ doc: emptyJob(), origin: 'load' }, { kind: 'load', doc: job });
    expect(isDirty(loaded.doc, job)).toBe(false);
    const text = toText(job, 'yaml');
    const reparsed = parseText(text, 'yaml');
    if (reparsed.ok) expect(isDirty(reparsed.doc, job)).toBe(false);
    const json = parseText(toText(job, 'json'), 'json');
    if (json.ok) expect(isDirty(json.doc, job)).toBe(false);
  });

  it('ignores key order but sees a changed value', () => {
    const reordered = asJobDoc({ steps: job.steps, parameters: {}, zeta_unknown: { keep: true }, description: '', name: 'restart' });
    expect(isDirty(reordered, job)).toBe(false);
    const edited = editorReducer({ doc: job, origin: 'load' }, { kind: 'set-with', index: 0, key: 'command', value: 'false' });
    expect(isDirty(edited.doc, job)).toBe(true);
    const back = editorReducer(edited, { kind: 'set-with', index: 0, key: 'command', value: 'true' });
    expect(isDirty(back.doc, job)).toBe(false);
  });
});

describe('reducer', () => {
  it('adds steps with fresh ids and moves on connect', () => {
    let s = { doc: emptyJob(), origin: 'load' as const } as ReturnType<typeof editorReducer>;
    for (let i = 0; i < 3; i++) s = editorReducer(s, { kind: 'add-step', type: 'ssh.exec' });
    expect(s.doc.steps.map((x) => x.id)).toEqual(['ssh_exec_1', 'ssh_exec_2', 'ssh_exec_3']);
    expect(s.origin).toBe('form');
    const move = connectOrder(s.doc.steps, 2, 0);
    expect(move).toEqual({ from: 0, to: 2 });
    expect(connectOrder(s.doc.steps, 0, 1)).toBeNull();
    if (move) s = editorReducer(s, { kind: 'move-step', ...move });
    expect(s.doc.steps.map((x) => x.id)).toEqual(['ssh_exec_2', 'ssh_exec_3', 'ssh_exec_1']);
    s = editorReducer(s, { kind: 'set-step', index: 0, key: 'when', value: undefined });
    expect('when' in (s.doc.steps[0] ?? {})).toBe(false);
  });
});

describe('schema → form fields', () => {
  const schema = {
    type: 'object',
    properties: {
      sudo: { type: 'boolean', default: false, description: 'Run through sudo -n.' },
      command: { type: 'string', minLength: 1 },
      timeout: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\s*[0-9]+\\s*$' }, { type: 'string', pattern: '\\{\\{|\\{%' }] },
      method: { anyOf: [{ type: 'string', enum: ['GET', 'POST'] }, { type: 'string', pattern: '\\{\\{|\\{%' }] },
      follow: { anyOf: [{ type: 'boolean' }, { type: 'string', pattern: '^true|false$' }, { type: 'string', pattern: '\\{\\{|\\{%' }] },
      env: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      paths: { type: 'array', items: { type: 'string' } },
      body: { description: 'Any JSON value.' },
    },
    required: ['command'],
  };
  it('maps each schema shape to a field kind, required first', () => {
    const f = fieldsOf(schema);
    expect(f.map((x) => [x.key, x.kind])).toEqual([
      ['command', 'text'],
      ['sudo', 'boolean'],
      ['timeout', 'number'],
      ['method', 'enum'],
      ['follow', 'boolean'],
      ['env', 'map'],
      ['paths', 'strings'],
      ['body', 'json'],
    ]);
    expect(f[0]?.required).toBe(true);
    expect(f.find((x) => x.key === 'method')?.options).toEqual(['GET', 'POST']);
  });
  it('writes typed values and keeps templates as text', () => {
    expect(parseField('number', '30')).toBe(30);
    expect(parseField('number', '{{ params.t }}')).toBe('{{ params.t }}');
    expect(parseField('boolean', 'true')).toBe(true);
    expect(parseField('boolean', '{{ params.on }}')).toBe('{{ params.on }}');
    expect(parseField('boolean', '')).toBeUndefined();
    expect(parseField('strings', 'a\n\nb\n')).toEqual(['a', 'b']);
    expect(parseField('map', 'A=1\nB=x=y')).toEqual({ A: '1', B: 'x=y' });
    expect(display('map', { A: '1', B: 2 })).toBe('A=1\nB=2');
    expect(parseField('json', '{"a":1}')).toEqual({ a: 1 });
  });
});

describe('YAML completion context', () => {
  const text = 'name: x\nsteps:\n  - id: a\n    type: ssh.exec\n    with:\n      comm\n  - id: b\n    ty\n';
  it('knows the job, a step and a step type’s with', () => {
    expect(contextAt(text, 2).where).toBe('job');
    const inWith = text.indexOf('comm') + 4;
    expect(contextAt(text, inWith)).toEqual({ where: 'with', stepType: 'ssh.exec' });
    const inStep = text.indexOf('    ty\n') + 6;
    expect(contextAt(text, inStep).where).toBe('step');
  });
});
