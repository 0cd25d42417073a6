import { useEffect, useId, useRef, type ReactNode } from 'react';

/** A modal dialog (the native `<dialog>`: focus trap, Escape, backdrop). */
export function Dialog({
  open,
  title,
  onClose,
  children,
  footer,
  dismissable = true,
}: {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ReactNode;
  footer?: ReactNode;
  /** Whether Escape closes it (a dialog the user must answer says false). */
  dismissable?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={id}
      onClose={() => {
        // Browsers let a second Escape close even a dialog whose cancel was
        // refused: one that must be answered opens again.
        if (!dismissable && open) ref.current?.showModal();
        else onClose();
      }}
      onCancel={(e) => {
        if (dismissable) onClose();
        else e.preventDefault();
      }}
    >
      <h2 id={id}>{title}</h2>
      <div className="dialog-body">{open && children}</div>
      {footer && <div className="dialog-footer">{footer}</div>}
    </dialog>
  );
}
