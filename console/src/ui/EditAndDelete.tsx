import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Button } from './Button';

/** A record page's header actions: `children` (its own acts) first, then
 * the link to its editor (`edit` below the page) and the button that asks
 * before deleting it. */
export function EditAndDelete({ onDelete, children }: { onDelete: () => void; children?: ReactNode }) {
  return (
    <>
      {children}
      <Link className="btn btn-secondary" to="edit">
        Edit
      </Link>
      <Button variant="danger" onClick={onDelete}>
        Delete
      </Button>
    </>
  );
}
