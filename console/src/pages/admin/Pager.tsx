import type { ReactNode } from 'react';
import { Button } from '../../ui/Button';

/** The previous and next page buttons under an admin table (`pageOf` gives
 * the offsets; `null` where there is no such page). `children` stand before
 * the buttons. */
export function Pager({ label, page, onGo, children }: {
  label: string;
  page: { prev: number | null; next: number | null };
  onGo: (offset: number | null) => void;
  children?: ReactNode;
}) {
  return (
    <div className="admin-pager" role="group" aria-label={label}>
      {children}
      <Button disabled={page.prev === null} onClick={() => onGo(page.prev)}>
        Previous page
      </Button>
      <Button disabled={page.next === null} onClick={() => onGo(page.next)}>
        Next page
      </Button>
    </div>
  );
}
