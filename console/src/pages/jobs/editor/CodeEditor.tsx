// The YAML/JSON view: CodeMirror 6. Its linter parses the text (debounced
// by the linter itself): valid text updates the model, invalid text shows
// the parser's problems and leaves the model alone. Problems the API found
// at save time are shown at their key when the text locates them.
//
// The strict CSP (`default-src 'self'`) refuses the <style> element
// CodeMirror's style-mod puts into a document's <head>; in a shadow root it
// uses a constructed style sheet (adoptedStyleSheets), which CSP allows. So
// the editor lives in an open shadow root of its host, and its look (the
// console's theme variables, which inherit into it) is an EditorView.theme
// rather than rules in editor.css.
import { useEffect, useRef } from 'react';
import { autocompletion } from '@codemirror/autocomplete';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { Compartment, EditorState, StateEffect } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { basicSetup } from 'codemirror';
import type { FieldError } from '../../../api/types';
import { keyCompletion } from './completion';
import { isDirty, type JobDoc } from './model';
import type { StepType } from './stepTypes';
import { locate, parseText, toText, type Format } from './text';

/** The API's problems changed: lint again (forceLinting alone runs only a
 * lint already pending, i.e. after an edit). */
const serverErrorsChanged = StateEffect.define<null>();

/** The console's look inside the shadow root: its colour variables. */
const theme = EditorView.theme({
  '&': { minHeight: '24rem', maxHeight: '70vh', color: 'var(--text)', backgroundColor: 'var(--surface)' },
  '.cm-scroller': { overflow: 'auto', fontFamily: 'var(--mono)' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'var(--surface-2)' },
  '&.cm-focused': { outline: '2px solid var(--focus)', outlineOffset: '-2px' },
  '.cm-tooltip': { backgroundColor: 'var(--surface)', color: 'var(--text)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete ul li[aria-selected]': { backgroundColor: 'var(--accent)', color: 'var(--accent-text)' },
  '.cm-panels': { backgroundColor: 'var(--surface-2)', color: 'var(--text)' },
  // The lint package draws its marks with data: SVG images, which the CSP
  // (img-src falls back to 'self') refuses: CSS draws them instead.
  '.cm-lintRange': { backgroundImage: 'none', textDecorationLine: 'underline', textDecorationStyle: 'wavy', textDecorationSkipInk: 'none', textUnderlineOffset: '3px' },
  '.cm-lintRange-error': { backgroundImage: 'none', textDecorationColor: 'var(--danger)' },
  '.cm-lintRange-warning': { backgroundImage: 'none', textDecorationColor: 'var(--warn)' },
  '.cm-lintRange-info': { backgroundImage: 'none', textDecorationColor: 'var(--info)' },
  '.cm-lintRange-hint': { backgroundImage: 'none', textDecorationColor: 'var(--muted)' },
  '.cm-lint-marker': { content: 'normal', boxSizing: 'border-box', width: '0.8em', height: '0.8em', margin: '0.1em', borderRadius: '2px' },
  '.cm-lint-marker-error': { content: 'normal', borderRadius: '50%', backgroundColor: 'var(--danger)' },
  '.cm-lint-marker-warning': { content: 'normal', backgroundColor: 'var(--warn)' },
  '.cm-lint-marker-info': { content: 'normal', backgroundColor: 'var(--info)' },
});

/** Syntax colours from the theme variables (readable in light and dark). */
const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--accent)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--ok)' },
  { tag: [tags.number, tags.bool, tags.null, tags.atom], color: 'var(--info)' },
  { tag: [tags.keyword, tags.meta, tags.labelName], color: 'var(--warn)' },
  { tag: tags.comment, color: 'var(--muted)', fontStyle: 'italic' },
  { tag: tags.invalid, color: 'var(--danger)' },
]);

interface Props {
  doc: JobDoc;
  /** Whether the last change came from this view (then its text stays). */
  ownChange: boolean;
  format: Format;
  stepTypes: StepType[] | undefined;
  serverErrors: FieldError[];
  onDoc: (doc: JobDoc) => void;
  /** Whether the text parses (the JSON/YAML toggle needs a valid text). */
  onValidity: (valid: boolean) => void;
  label: string;
}

export function CodeEditor({ doc, ownChange, format, stepTypes, serverErrors, onDoc, onValidity, label }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const lang = useRef(new Compartment());
  // The linter and completion read the latest props through refs.
  const latest = useRef({ doc, format, stepTypes, serverErrors, onDoc, onValidity });
  latest.current = { doc, format, stepTypes, serverErrors, onDoc, onValidity };

  useEffect(() => {
    if (!host.current) return;
    const root = host.current.shadowRoot ?? host.current.attachShadow({ mode: 'open' });
    const parent = document.createElement('div');
    root.appendChild(parent);
    const lint = linter(
      (v): Diagnostic[] => {
        const text = v.state.doc.toString();
        const l = latest.current;
        const parsed = parseText(text, l.format);
        l.onValidity(parsed.ok);
        if (!parsed.ok) return parsed.problems.map((p) => ({ from: p.from, to: p.to, severity: 'error', message: `Line ${p.line}, column ${p.column}: ${p.message}` }));
        if (isDirty(parsed.doc, l.doc)) l.onDoc(parsed.doc);
        return l.serverErrors.flatMap((e): Diagnostic[] => {
          const at = locate(text, e.path);
          return at ? [{ from: at.from, to: Math.max(at.to, at.from + 1), severity: 'error', message: `${e.path}: ${e.message}`, source: 'server' }] : [];
        });
      },
      { delay: 400, needsRefresh: (u) => u.transactions.some((tr) => tr.effects.some((e) => e.is(serverErrorsChanged))) },
    );
    const v = new EditorView({
      root,
      parent,
      state: EditorState.create({
        doc: toText(latest.current.doc, latest.current.format),
        extensions: [
          basicSetup,
          theme,
          syntaxHighlighting(highlight),
          lang.current.of(latest.current.format === 'json' ? json() : yaml()),
          lint,
          lintGutter(),
          autocompletion({ override: [keyCompletion(() => latest.current.stepTypes)] }),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.lineWrapping,
        ],
      }),
    });
    view.current = v;
    return () => {
      // The model holds the last text that parsed; leaving the view drops the rest.
      latest.current.onValidity(true);
      v.destroy();
      parent.remove();
      view.current = null;
    };
  }, [label]);

  // A change made elsewhere (the builder, a load, the format toggle) rewrites the text.
  const shownFormat = useRef(format);
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const toggled = shownFormat.current !== format;
    shownFormat.current = format;
    if (toggled) v.dispatch({ effects: lang.current.reconfigure(format === 'json' ? json() : yaml()) });
    if (ownChange && !toggled) return;
    const text = toText(doc, format);
    if (v.state.doc.toString() !== text) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
  }, [doc, ownChange, format]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch({ effects: serverErrorsChanged.of(null) });
    forceLinting(v);
  }, [serverErrors]);

  return <div className="code-editor" ref={host} />;
}
