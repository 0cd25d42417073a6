// The inventory rooms: a credential and a target made through the UI, its
// connection tested, its host key approved; an import with a bad row that
// imports nothing until fixed; a group by selector; a viewer offered no
// changes; two-factor enrolment on the profile page.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, shot, signIn, test, totp, unique } from './fixtures';

const h1 = (page: Page, name: string | RegExp) => page.getByRole('heading', { level: 1, name });

test('a credential and a target through the UI: test, approve the host key, tested OK', async ({ page, stack }) => {
  const cred = unique('cred');
  const target = unique('tgt');
  await signIn(page, 'admin');

  await page.goto('/credentials/new');
  await expect(h1(page, 'New credential')).toBeVisible();
  await page.getByLabel('Name', { exact: true }).fill(cred);
  await page.getByLabel('Type').selectOption('ssh_password');
  await page.getByLabel('User name', { exact: true }).fill(stack.sshd.user);
  await page.getByLabel('Password', { exact: true }).fill(stack.sshd.password);
  await page.getByLabel('Hosts').fill(stack.sshd.host);
  await expectAccessible(page, 'the credential form');
  await page.getByRole('button', { name: 'Create credential' }).click();
  await expect(h1(page, cred)).toBeVisible();
  // The secret is never shown back.
  await expect(page.getByText(stack.sshd.password)).toHaveCount(0);
  await expectAccessible(page, 'the credential page');

  await page.goto('/credentials');
  await expect(page.getByRole('link', { name: cred })).toBeVisible();
  await expectAccessible(page, 'the credentials list');
  await shot(page, 'credentials');

  await page.goto('/targets/new');
  await page.getByLabel('Name', { exact: true }).fill(target);
  await page.getByLabel('Host name or address').fill(stack.sshd.host);
  await page.getByLabel('Pool').fill(stack.pool);
  await page.getByLabel('Tags').fill('inv-ui');
  await page.getByLabel('SSH credential').selectOption({ label: cred });
  await page.getByLabel('SSH port').fill(String(stack.sshd.port));
  await page.getByLabel('Host key policy').selectOption('strict');
  await expectAccessible(page, 'the target form');
  await page.getByRole('button', { name: 'Create target' }).click();
  await expect(h1(page, target)).toBeVisible();

  // Strict: the first test stops at the unknown host key, which waits for approval.
  await page.getByRole('button', { name: 'Test connection' }).click();
  const hostKey = page.getByRole('region', { name: 'SSH host key' });
  await expect(hostKey.getByText('Presented (new) key')).toBeVisible({ timeout: 30_000 });
  await expect(hostKey.getByText(stack.sshd.host_fingerprint)).toBeVisible();
  await expect(page.getByText(/Stage host key/)).toBeVisible();
  await expectAccessible(page, 'a target with a pending host key');
  await hostKey.getByRole('button', { name: 'Approve new key' }).click();
  await expect(hostKey.getByText('Pinned key')).toBeVisible();
  await expect(hostKey.getByText(stack.sshd.host_fingerprint)).toBeVisible();

  await page.getByRole('button', { name: 'Test connection' }).click();
  const connection = page.getByRole('region', { name: 'Connection' });
  await expect(connection.getByText('connected')).toBeVisible({ timeout: 30_000 });
  await expect(connection.getByRole('table', { name: 'Facts' })).toBeVisible();
  await expectAccessible(page, 'a tested target');
  await shot(page, 'target-page');

  // The credential page names the target that uses it.
  await page.goto('/credentials');
  await page.getByRole('link', { name: cred }).click();
  await expect(page.getByRole('region', { name: 'Where it is used' }).getByRole('link', { name: target })).toBeVisible();
});

test('an import with a bad row imports nothing, fixed it imports both; a selector group shows them', async ({ page, api }) => {
  const tag = unique('imp');
  const [a, b] = [unique('imp-a'), unique('imp-b')];
  const csv = (os: string) => `name,hostname,os_type,tags\n${a},${a}.example.test,linux,${tag}\n${b},${b}.example.test,${os},${tag};web\n`;
  await signIn(page, 'operator');

  await page.goto('/targets/import');
  await expect(h1(page, 'Import targets')).toBeVisible();
  await page.getByLabel('Or paste CSV or JSON').fill(csv('beos'));
  await expect(page.getByRole('heading', { name: /Preview: 2 row\(s\) of CSV/ })).toBeVisible();
  await page.getByRole('button', { name: 'Import 2 target(s)' }).click();
  const rows = page.getByRole('table', { name: 'Rows to import' }).getByRole('row');
  await expect(rows.nth(2)).toContainText('os_type');
  await expect(rows.nth(1)).not.toContainText('os_type');
  await expect(page.getByText('Nothing was imported', { exact: true })).toBeVisible();
  await expectAccessible(page, 'an import with a bad row');
  const none = await api.get<{ total: number }>(`/api/v1/targets?tag=${tag}`);
  expect(none.total).toBe(0);

  await page.getByLabel('Or paste CSV or JSON').fill(csv('unix'));
  await page.getByRole('button', { name: 'Import 2 target(s)' }).click();
  await expect(page.getByText('Imported 2 target(s).')).toBeVisible();

  await page.goto(`/targets?tag=${tag}`);
  await expect(page.getByRole('link', { name: a })).toBeVisible();
  await expect(page.getByRole('link', { name: b })).toBeVisible();
  await expect(page.getByLabel('Tag', { exact: true })).toHaveValue(tag);
  await expectAccessible(page, 'the filtered target list');
  await shot(page, 'targets');

  const group = unique('grp');
  await page.goto('/groups/new');
  await page.getByLabel('Name', { exact: true }).fill(group);
  await page.getByLabel('Also include every target matching a selector').check();
  await page.getByLabel('Selector tags').fill(tag);
  await expectAccessible(page, 'the group form');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(h1(page, group)).toBeVisible();
  const members = page.getByRole('table', { name: 'Current members' });
  await expect(members.getByRole('link', { name: a })).toBeVisible();
  await expect(members.getByRole('link', { name: b })).toBeVisible();
  await expectAccessible(page, 'the group page');
  await shot(page, 'groups');
});

test('a viewer is offered no create, edit, test or import controls', async ({ page, api }) => {
  const t = await api.post<{ id: string; name: string }>('/api/v1/targets', { name: unique('view'), hostname: 'viewer.example.test', os_type: 'linux' });
  await signIn(page, 'viewer');
  await page.goto('/targets');
  await expect(h1(page, 'Targets')).toBeVisible();
  await expect(page.getByRole('link', { name: 'New target' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Import' })).toHaveCount(0);
  await page.goto(`/targets/${t.id}`);
  await expect(h1(page, t.name)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Test connection' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  await expectAccessible(page, 'a target as a viewer');
  await page.goto('/groups');
  await expect(h1(page, 'Groups')).toBeVisible();
  await expect(page.getByRole('link', { name: 'New group' })).toHaveCount(0);
  // Credentials are not a viewer's to read: the API's refusal, no controls.
  await page.goto('/credentials');
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('link', { name: 'New credential' })).toHaveCount(0);
  await expectAccessible(page, 'credentials as a viewer');
});

test('the profile enrols two-factor sign-in and shows the recovery codes once', async ({ page, api }) => {
  const account = await api.createUser(unique('prof'), 'operator');
  await signIn(page, account);
  await page.goto('/profile');
  await expect(h1(page, 'Profile')).toBeVisible();
  await expectAccessible(page, 'the profile');
  await shot(page, 'profile');
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const secret = (await page.locator('.mfa-secret').textContent())?.trim() ?? '';
  expect(secret).toMatch(/^[A-Z2-7]+=*$/);
  await expect(page.getByText(/^otpauth:\/\//)).toBeVisible();
  await expectAccessible(page, 'the enrolment');
  await page.getByLabel('Code from the app').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on two-factor sign-in' }).click();
  const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(codes).toHaveCount(10);
  const done = page.getByRole('button', { name: 'Done' });
  await expect(done).toBeDisabled();
  await page.getByLabel('I saved my recovery codes').check();
  await done.click();
  await expect(page.getByRole('button', { name: 'Turn off two-factor sign-in' })).toBeVisible();
  await page.getByLabel('Your password (to turn it off)').fill(account.password);
  await page.getByRole('button', { name: 'Turn off two-factor sign-in' }).click();
  await expect(page.getByRole('button', { name: 'Set up two-factor sign-in' })).toBeVisible();
});
