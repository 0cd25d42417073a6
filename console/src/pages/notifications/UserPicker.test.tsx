import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Schemas } from '../../api/types';
import { UserPicker, userItems } from './UserPicker';

afterEach(cleanup);

const user = (id: string, username: string, display_name = username) => ({ id, username, display_name }) as Schemas['UserView'];
const USERS = userItems([user('u2', 'zoe'), user('u1', 'ann', 'Ann Smith'), user('u3', 'bob')]);

describe('UserPicker', () => {
  it('lists users by username, the display name aside', () => {
    expect(USERS).toEqual([
      { id: 'u1', name: 'ann (Ann Smith)' },
      { id: 'u3', name: 'bob' },
      { id: 'u2', name: 'zoe' },
    ]);
  });

  it('adds the user picked at the end, offers only those not chosen, and removes', () => {
    const onChange = vi.fn();
    render(<UserPicker legend="Users" users={USERS} chosen={['u2', 'x1234567890']} onChange={onChange} />);
    const group = screen.getByRole('group', { name: 'Users' });
    expect(within(group).getAllByRole('listitem').map((li) => li.firstChild?.textContent)).toEqual(['zoe', 'user 34567890']);
    const select = within(group).getByLabelText('User to add') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(['', 'u1', 'u3']);
    const add = within(group).getByRole('button', { name: 'Add user' }) as HTMLButtonElement;
    expect(add.disabled).toBe(true);
    fireEvent.change(select, { target: { value: 'u3' } });
    fireEvent.click(add);
    expect(onChange).toHaveBeenLastCalledWith(['u2', 'x1234567890', 'u3']);
    fireEvent.click(within(group).getByRole('button', { name: 'Remove zoe' }));
    expect(onChange).toHaveBeenLastCalledWith(['x1234567890']);
  });

  it('says when none is chosen and shows its problem', () => {
    render(<UserPicker legend="Owners" users={USERS} chosen={[]} onChange={() => undefined} error="no such user" />);
    const group = screen.getByRole('group', { name: 'Owners' });
    expect(within(group).getByText('None.')).toBeTruthy();
    expect(within(group).getByRole('alert').textContent).toBe('no such user');
  });
});
