import { Button } from './Button';

/** The buttons of a filter form: apply what was typed (the form's submit),
 * or clear every filter at once. `className` places them in the room's form. */
export function FilterActions({ className, clearLabel = 'Clear', onClear }: { className: string; clearLabel?: string; onClear: () => void }) {
  return (
    <div className={className}>
      <Button type="submit" variant="primary">
        Apply filters
      </Button>
      <Button onClick={onClear}>{clearLabel}</Button>
    </div>
  );
}
