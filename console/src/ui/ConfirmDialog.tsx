import type { ReactNode } from 'react';
import { Button } from './Button';
import { Dialog } from './Dialog';
import { ProblemAlert } from './ProblemAlert';

/** Asks before something that cannot be taken back (deleting, revoking,
 * forgetting): the consequences in `children`, a way out, the danger button,
 * and why the act was refused if it was. */
export function ConfirmDialog({
  open,
  title,
  onClose,
  onConfirm,
  busy,
  error,
  errorTitle,
  confirmLabel = 'Delete',
  keepLabel = 'Keep it',
  children,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  onConfirm: () => void;
  /** The act is under way. */
  busy: boolean;
  /** The act's failure, shown under the consequences. */
  error: unknown;
  errorTitle?: string;
  confirmLabel?: ReactNode;
  keepLabel?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Dialog
      open={open}
      title={title}
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>{keepLabel}</Button>
          <Button variant="danger" busy={busy} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </>
      }
    >
      {children}
      <ProblemAlert error={error} title={errorTitle} />
    </Dialog>
  );
}
