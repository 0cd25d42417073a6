// The user forms' values and the request bodies made from them.
import type { NewUser, Role, User, UserUpdate } from './queries';

/** The new-user form. */
export interface NewUserForm {
  username: string;
  password: string;
  role: Role;
  display_name: string;
  email: string;
  timezone: string;
}

export const EMPTY_USER: NewUserForm = { username: '', password: '', role: 'viewer', display_name: '', email: '', timezone: '' };

/** The body of `POST /api/v1/users`: blanks left to the API's defaults. */
export function newUserBody(f: NewUserForm): NewUser {
  return {
    username: f.username.trim(),
    password: f.password,
    role: f.role,
    display_name: f.display_name.trim() || null,
    email: f.email.trim() || null,
    timezone: f.timezone.trim() || null,
  };
}

/** The edit form of an existing user. */
export interface UserForm {
  display_name: string;
  email: string;
  role: Role;
  timezone: string;
  active: boolean;
}

export const userFormOf = (u: User): UserForm => ({
  display_name: u.display_name,
  email: u.email ?? '',
  role: u.role,
  timezone: u.timezone,
  active: u.active,
});

/** Only what changed, so that an unrelated field is never rewritten. */
export function changesOf(before: UserForm, after: UserForm): UserUpdate {
  const up: UserUpdate = {};
  if (after.display_name.trim() !== before.display_name) up.display_name = after.display_name.trim();
  if (after.email.trim() !== before.email) up.email = after.email.trim();
  if (after.role !== before.role) up.role = after.role;
  if (after.timezone.trim() !== before.timezone) up.timezone = after.timezone.trim();
  if (after.active !== before.active) up.active = after.active;
  return up;
}
