import { Button } from '../../ui/Button';
import { ProblemAlert } from '../../ui/ProblemAlert';

/** The foot of an admin form that edits saved settings: why the last save
 * failed, "Saved." once nothing is left to save, and save or undo while the
 * form differs from what was saved. */
export function SaveOrUndo({ save, dirty, label, errorTitle, onUndo }: {
  save: { error: unknown; isSuccess: boolean; isPending: boolean };
  dirty: boolean;
  /** The save button's words. */
  label: string;
  errorTitle: string;
  /** Puts the form back to what was saved. */
  onUndo: () => void;
}) {
  return (
    <>
      <ProblemAlert error={save.error} title={errorTitle} />
      {save.isSuccess && !dirty && <p role="status">Saved.</p>}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending} disabled={!dirty}>
          {label}
        </Button>
        <Button disabled={!dirty || save.isPending} onClick={onUndo}>
          Undo changes
        </Button>
      </div>
    </>
  );
}
