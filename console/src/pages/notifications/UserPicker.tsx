// Users chosen by username, in the order chosen, each once and each
// removable: the recipients of a rule's channels and the owners of the
// jobs it is for.
import { useState } from 'react';
import type { Schemas } from '../../api/types';
import { toggled } from '../../lib/lists';
import { Button } from '../../ui/Button';
import { SelectField, FieldMessage } from '../../ui/Field';
import { shortId } from '../../lib/format';

export interface UserItem {
  id: string;
  name: string;
}

/** The users to pick from, by username (their display name aside). */
export function userItems(users: Schemas['UserView'][] = []): UserItem[] {
  return [...users]
    .sort((a, b) => a.username.localeCompare(b.username))
    .map((u) => ({ id: u.id, name: u.display_name && u.display_name !== u.username ? `${u.username} (${u.display_name})` : u.username }));
}

/** One fieldset: the chosen users, then a user to add. */
export function UserPicker({ legend, users, chosen, onChange, hint, error }: {
  legend: string;
  users: UserItem[];
  chosen: string[];
  onChange: (ids: string[]) => void;
  hint?: string;
  error?: string;
}) {
  const [pick, setPick] = useState('');
  const names = new Map(users.map((u) => [u.id, u.name]));
  const nameOf = (id: string) => names.get(id) ?? `user ${shortId(id)}`;
  const left = users.filter((u) => !chosen.includes(u.id));
  const picked = left.some((u) => u.id === pick) ? pick : '';
  const add = () => {
    if (!picked) return;
    onChange(toggled(chosen, picked, true));
    setPick('');
  };
  return (
    <fieldset className={error ? 'field field-error' : 'field'}>
      <legend>{legend}</legend>
      {hint && <div className="field-hint">{hint}</div>}
      {chosen.length === 0 ? (
        <p className="muted small">None.</p>
      ) : (
        <ul className="ntf-chosen">
          {chosen.map((id) => (
            <li key={id}>
              <span>{nameOf(id)}</span>
              <Button variant="ghost" aria-label={`Remove ${nameOf(id)}`} onClick={() => onChange(chosen.filter((x) => x !== id))}>
                Remove
              </Button>
            </li>
          ))}
        </ul>
      )}
      <div className="row ntf-add">
        <SelectField
          label="User to add"
          value={picked}
          onChange={(e) => setPick(e.target.value)}
          options={[{ value: '', label: left.length > 0 ? 'Choose a user…' : 'No more users' }, ...left.map((u) => ({ value: u.id, label: u.name }))]}
        />
        <Button onClick={add} disabled={!picked}>
          Add user
        </Button>
      </div>
      <FieldMessage error={error} />
    </fieldset>
  );
}
