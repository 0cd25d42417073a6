// The administration room: users and roles, an API token shown once and
// revoked, the audit log filtered to one record and exported, and the
// workers of the installation by pool.
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, expectAccessible, shot, signIn, test, unique, type Api } from './fixtures';

interface User {
  id: string;
  username: string;
  role: string;
}

const heading = (page: Page, name: string) => page.getByRole('heading', { name, level: 1 });
const adminNav = (page: Page) => page.getByRole('navigation', { name: 'Administration' });

async function userNamed(api: Api, username: string): Promise<User | undefined> {
  const all = await api.get<{ items: User[] }>('/api/v1/users?limit=500');
  return all.items.find((u) => u.username === username);
}

test('an admin creates an operator, sees them listed and changes their role', async ({ page, api }) => {
  const username = unique('admin-op');
  await signIn(page, 'admin');
  await page.goto('/admin');
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(heading(page, 'Users')).toBeVisible();
  await expect(adminNav(page).getByRole('link')).toHaveText(['Users', 'API tokens', 'Security', 'Audit log', 'Workers']);
  await expectAccessible(page, 'the users list');

  await page.getByRole('link', { name: 'New user' }).click();
  await expect(heading(page, 'New user')).toBeVisible();
  // The API's own check of the password is shown on its field, and nothing typed is lost.
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill('short');
  await page.getByLabel('Role', { exact: true }).selectOption('operator');
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('alert').filter({ hasText: /password/i }).first()).toBeVisible();
  await expect(page.getByLabel('User name')).toHaveValue(username);
  await expectAccessible(page, 'the new-user form with an error');

  await page.getByLabel('Password').fill(`pw-${username}-Zx81q`);
  await page.getByRole('button', { name: 'Create user' }).click();
  await expect(heading(page, 'Users')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: `User ${username} created.` })).toBeVisible();
  const row = page.getByRole('row', { name: new RegExp(username) });
  await expect(row).toContainText('operator');
  await expect(row).toContainText('active');
  expect((await userNamed(api, username))?.role).toBe('operator');
  await row.scrollIntoViewIfNeeded();
  await shot(page, 'admin-users');

  await row.getByRole('link', { name: username }).click();
  await expect(heading(page, username)).toBeVisible();
  await expectAccessible(page, "a user's page");
  const save = page.getByRole('button', { name: 'Save changes' });
  await expect(save).toBeDisabled();
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await save.click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(save).toBeDisabled();
  await expect.poll(async () => (await userNamed(api, username))?.role).toBe('viewer');

  // Ending their sessions is offered and works; deleting asks first.
  await page.getByRole('button', { name: 'Revoke all sessions' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Every session of ${username} has ended.` })).toBeVisible();
  await page.getByRole('button', { name: 'Delete user' }).click();
  const confirm = page.getByRole('dialog', { name: `Delete ${username}?` });
  await expect(confirm).toBeVisible();
  await expectAccessible(page, 'the delete confirmation');
  await confirm.getByRole('button', { name: 'Keep the user' }).click();
  await expect(confirm).toBeHidden();

  await adminNav(page).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('row', { name: new RegExp(username) })).toContainText('viewer');
});

test('an API token is shown once, works, is gone after closing, and is revoked', async ({ page, context, stack }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const name = unique('admin-token');
  await signIn(page, 'admin');
  await page.goto('/admin/tokens');
  await expect(heading(page, 'API tokens')).toBeVisible();
  await expectAccessible(page, 'the tokens page');

  await page.getByLabel('Token name').fill(name);
  await page.getByLabel('Token role').selectOption('viewer');
  await page.getByLabel('Expires').selectOption('30');
  await page.getByRole('button', { name: 'Create token' }).click();

  const once = page.getByRole('dialog', { name: 'Copy your new token now' });
  await expect(once).toBeVisible();
  await expect(once).toContainText('This is the only time the token is shown.');
  const secret = await once.getByLabel('The new token').inputValue();
  expect(secret.length).toBeGreaterThan(20);
  await once.getByRole('button', { name: 'Copy token' }).click();
  await expect(once.getByRole('status')).toHaveText('Copied to the clipboard.');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await shot(page, 'admin-token-once');
  await expectAccessible(page, 'the token shown once');

  // The secret is a working bearer token with the role asked for.
  const verify = await page.request.get(`${stack.base_url}/api/v1/auth/verify`, { headers: { Authorization: `Bearer ${secret}` } });
  expect(verify.status()).toBe(200);
  expect(await verify.json()).toMatchObject({ kind: 'api_token', role: 'viewer' });

  await once.getByRole('button', { name: 'I have copied it, close' }).click();
  await expect(once).toBeHidden();
  expect(await page.content()).not.toContain(secret);
  const row = page.getByRole('row', { name: new RegExp(name) });
  await expect(row).toContainText('active');
  await expect(row).toContainText(secret.slice(0, 6));

  await row.getByRole('button', { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole('dialog', { name: `Revoke ${name}?` });
  await confirm.getByRole('button', { name: 'Revoke token' }).click();
  await expect(confirm).toBeHidden();
  await expect(row).toContainText('revoked');
  await expect(row.getByRole('button', { name: `Revoke ${name}` })).toHaveCount(0);
  const after = await page.request.get(`${stack.base_url}/api/v1/auth/verify`, { headers: { Authorization: `Bearer ${secret}` } });
  expect(after.status()).toBe(401);
});

test('the audit log is filtered through the URL to one user creation, shown in detail and exported', async ({ page, api }) => {
  const username = unique('audited');
  await api.createUser(username, 'viewer');
  const user = await userNamed(api, username);
  expect(user).toBeDefined();
  const id = user?.id ?? '';
  await expect
    .poll(async () => (await api.get<{ total: number }>(`/api/v1/audit?action=user.create&entity_id=${id}`)).total)
    .toBe(1);

  await signIn(page, 'admin');
  await page.goto('/admin/audit');
  await expect(heading(page, 'Audit log')).toBeVisible();
  await page.getByLabel('Action').fill('user.create');
  await page.getByLabel('Entity id').fill(id);
  await page.getByLabel('Outcome').selectOption('success');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(new RegExp(`action=user.create.*entity_id=${id}`));
  await expect(page.getByRole('heading', { name: 'Records 1–1 of 1' })).toBeVisible();
  const row = page.getByRole('table', { name: 'Audit records' }).getByRole('row').nth(1);
  await expect(row).toContainText('user.create');
  await expect(row).toContainText(api.account.username);
  await shot(page, 'admin-audit');
  await expectAccessible(page, 'the filtered audit log');

  // The filters survive a reload (they live in the URL).
  await page.reload();
  await expect(page.getByLabel('Action')).toHaveValue('user.create');
  await expect(page.getByRole('heading', { name: 'Records 1–1 of 1' })).toBeVisible();

  await row.getByRole('button', { name: /^Details of user\.create/ }).click();
  const detail = page.getByRole('dialog', { name: /^user\.create by / });
  await expect(detail).toBeVisible();
  await expect(detail.getByLabel('Summary of the change')).toContainText(username);
  await expect(detail.getByLabel('Summary of the change')).not.toContainText('pw-');
  await expectAccessible(page, 'an audit record');
  await detail.getByRole('button', { name: 'Close' }).click();
  await expect(detail).toBeHidden();

  await page.getByLabel('Export format').selectOption('csv');
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export matching records' }).click();
  const file = await downloading;
  expect(file.suggestedFilename()).toBe('audit.csv');
  const csv = readFileSync(await file.path(), 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain('user.create');
  expect(lines[1]).toContain(id);
  await expect(page.getByRole('status').filter({ hasText: 'Downloaded audit.csv.' })).toBeVisible();
});

test('the security settings save, report saved, and are put back', async ({ page, api }) => {
  // Only self-registration is toggled (and restored): requiring MFA of admins would lock out the other journeys.
  const before = await api.get<{ self_registration: boolean; require_mfa_for_admins: boolean }>('/api/v1/settings/security');
  await signIn(page, 'admin');
  await page.goto('/admin/security');
  await expect(heading(page, 'Security settings')).toBeVisible();
  const box = page.getByLabel('Anyone may register as a viewer');
  await expect(box).toBeChecked({ checked: before.self_registration });
  const save = page.getByRole('button', { name: 'Save settings' });
  await expect(save).toBeDisabled();
  await expectAccessible(page, 'the security settings');
  try {
    await box.setChecked(!before.self_registration);
    await save.click();
    await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
    await expect(save).toBeDisabled();
    expect(await api.get('/api/v1/settings/security')).toEqual({ ...before, self_registration: !before.self_registration });
    await box.setChecked(before.self_registration);
    await save.click();
    // The button is disabled while the request is in flight too: read until the api has it.
    await expect(save).toBeDisabled();
    await expect.poll(() => api.get('/api/v1/settings/security')).toEqual(before);
  } finally {
    await api.put('/api/v1/settings/security', before);
  }
});

test("the workers page shows the installation's worker in its pool", async ({ page, stack }) => {
  await signIn(page, 'admin');
  await page.goto('/admin/workers');
  await expect(heading(page, 'Workers')).toBeVisible();
  await expect(page.getByRole('heading', { name: `Pool ${stack.pool}`, level: 2 })).toBeVisible();
  const table = page.getByRole('table', { name: `Workers of pool ${stack.pool}` });
  await expect(table.getByRole('row').nth(1)).toContainText('live');
  await expect(page.getByRole('meter', { name: `Load of pool ${stack.pool}` })).toBeVisible();
  await expectAccessible(page, 'the workers page');
});
