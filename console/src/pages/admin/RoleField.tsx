import { SelectField } from '../../ui/Field';
import { ROLES, type Role } from './queries';

/** A user's role: one of the three, with the API's problem and a hint. */
export function RoleField({ value, onChange, error, hint }: { value: Role; onChange: (r: Role) => void; error?: string; hint?: string }) {
  return (
    <SelectField
      label="Role"
      value={value}
      onChange={(e) => onChange(e.target.value as Role)}
      options={ROLES.map((r) => ({ value: r, label: r }))}
      error={error}
      hint={hint}
    />
  );
}
