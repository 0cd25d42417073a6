import { describe, expect, it } from 'vitest';
import { EMPTY_USER, changesOf, newUserBody, type UserForm } from './forms';

describe('newUserBody', () => {
  it('trims and leaves blanks to the API', () => {
    expect(newUserBody({ ...EMPTY_USER, username: ' ann ', password: ' secret with spaces ', role: 'operator' })).toEqual({
      username: 'ann',
      password: ' secret with spaces ',
      role: 'operator',
      display_name: null,
      email: null,
      timezone: null,
    });
  });
});

describe('changesOf', () => {
  const before: UserForm = { display_name: 'Ann', email: '', role: 'operator', timezone: 'UTC', active: true };

  it('is empty when nothing changed (nothing is falsely reported unsaved)', () => {
    expect(changesOf(before, { ...before, display_name: 'Ann ' })).toEqual({});
  });

  it('sends only the changed fields', () => {
    expect(changesOf(before, { ...before, role: 'viewer', active: false })).toEqual({ role: 'viewer', active: false });
    expect(changesOf(before, { ...before, email: 'ann@example.org' })).toEqual({ email: 'ann@example.org' });
  });
});
