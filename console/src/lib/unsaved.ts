import { useCallback, useEffect, useRef } from 'react';
import { useBlocker } from 'react-router';

/** Asks before leaving a page whose edits are not saved: in-app navigation
 * through a confirm, closing or reloading the tab through the browser's own
 * prompt. `dirty` must compare with what was saved, so that nothing is
 * reported falsely. Returns `allowLeaving`: call it just before navigating
 * away after a successful save (the mutation's state is not updated yet
 * inside its `onSuccess`, so `dirty` may still read true there). */
export function useUnsavedChanges(
  dirty: boolean,
  message = 'You have unsaved changes. Leave this page and lose them?',
): () => void {
  const saved = useRef(false);
  const blocker = useBlocker(
    ({ currentLocation, nextLocation }) => !saved.current && dirty && currentLocation.pathname !== nextLocation.pathname,
  );
  useEffect(() => {
    if (blocker.state !== 'blocked') return;
    if (window.confirm(message)) blocker.proceed();
    else blocker.reset();
  }, [blocker, message]);
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
    };
    window.addEventListener('beforeunload', onUnload);
    return () => window.removeEventListener('beforeunload', onUnload);
  }, [dirty]);
  return useCallback(() => {
    saved.current = true;
  }, []);
}
