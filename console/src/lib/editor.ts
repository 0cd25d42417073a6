// What every editor page holds: the form as loaded and as edited, the
// problems found before sending, one submit at a time, a guard against
// leaving with unsaved edits, and leaving once the save went through.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { useUnsavedChanges } from './unsaved';

/** A form checked and turned into a request body, or each field's problem. */
export type Built<B> = { ok: true; body: B } | { ok: false; errors: Record<string, string> };

/** How an editor saves (a TanStack Query mutation is one). */
export interface Save<B> {
  isPending: boolean;
  mutate: (body: B, options: { onSettled: () => void }) => void;
}

/** Lets one submit through until it settles: a double click sends one request
 * even before React has re-rendered the button as busy. */
export function useSubmitGuard(): (send: (done: () => void) => void) => void {
  const busy = useRef(false);
  return (send) => {
    if (busy.current) return;
    busy.current = true;
    send(() => {
      busy.current = false;
    });
  };
}

/** Leaves an editor once it saved: the navigation waits for the render in
 * which the form is no longer dirty, so the unsaved-changes guard does not
 * stop it. */
export function useLeaveAfterSave(): { leaving: boolean; leave: (to: string) => void } {
  const navigate = useNavigate();
  const [to, setTo] = useState<string | null>(null);
  useEffect(() => {
    if (!to) return;
    // After every effect of this render, the blocker's among them, has run.
    const t = window.setTimeout(() => void navigate(to, { replace: true }), 0);
    return () => window.clearTimeout(t);
  }, [to, navigate]);
  return { leaving: to !== null, leave: setTo };
}

/** The state of an editor of `F`, started from `init()`. The form is dirty
 * while it differs from where it started and the editor is not leaving. */
export function useEditorForm<F extends object>(init: () => F) {
  const guard = useSubmitGuard();
  const { leaving, leave } = useLeaveAfterSave();
  const [initial] = useState(init);
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  useUnsavedChanges(JSON.stringify(form) !== JSON.stringify(initial) && !leaving);

  /** Changes some fields. */
  const set = (patch: Partial<F>) => setForm((f) => ({ ...f, ...patch }));
  /** The body of `built`; or `null`, its problems shown on the fields. */
  const check = <B>(built: Built<B>): B | null => {
    if (!built.ok) {
      setErrors(built.errors);
      return null;
    }
    setErrors({});
    return built.body;
  };
  /** The form's `onSubmit`: while `save` is idle, builds the body, then
   * shows its problems or sends it once. */
  const submitWith =
    <B>(save: Save<B>, build: () => Built<B>) =>
    (e: FormEvent) => {
      e.preventDefault();
      if (save.isPending) return;
      const body = check(build());
      if (body !== null) guard((done) => save.mutate(body, { onSettled: done }));
    };
  return { initial, form, setForm, set, errors, check, submitWith, leave };
}
