import { dateTime, relative } from '../lib/format';

/** An instant as "3 minutes ago", the exact time on hover and for readers. */
export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  return (
    <time dateTime={at} title={dateTime(at)}>
      {relative(at)}
    </time>
  );
}
