import { useRef } from 'react';

/** One idempotency key per user intent: a double click sends the same key,
 * so the API starts one run. `next()` after a success begins a new intent. */
export function useIdempotencyKey(): { key: () => string; next: () => void } {
  const ref = useRef<string | null>(null);
  return {
    key: () => (ref.current ??= crypto.randomUUID()),
    next: () => {
      ref.current = null;
    },
  };
}
