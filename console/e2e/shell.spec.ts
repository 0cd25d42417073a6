// The shell: sign-in with MFA, sign-out, a session that survives a reload
// without a token in web storage, a viewer offered nothing it may not do,
// the theme, a phone-sized screen, accessibility and the keyboard.
import type { Page } from '@playwright/test';
import {
  expect,
  expectAccessible,
  shot,
  signIn,
  test,
  totp,
  totpStep,
  unique,
  wrongTotp,
  type Api,
} from './fixtures';

const dashboard = (page: Page) => page.getByRole('heading', { name: 'Dashboard', level: 1 });
const loginHeading = (page: Page) => page.getByRole('heading', { name: 'Sign in to OpsConductor' });

async function openAccountMenu(page: Page) {
  await page.getByRole('button', { name: 'Account' }).click();
}

async function signOut(page: Page) {
  await openAccountMenu(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(loginHeading(page)).toBeVisible();
}

/** A fresh operator with TOTP turned on through the API; its secret and recovery codes. */
async function userWithMfa(api: Api) {
  const account = await api.createUser(unique('mfa'), 'operator');
  const me = await api.as(account);
  const enrolment = await me.post<{ secret: string }>('/api/v1/me/mfa/enroll');
  // The previous step's code: the current one stays unused for the sign-in
  // (a used step can never be used again).
  const { recovery_codes } = await me.post<{ recovery_codes: string[] }>('/api/v1/me/mfa/confirm', {
    code: totp(enrolment.secret, totpStep(-1)),
  });
  return { account, secret: enrolment.secret, recovery: recovery_codes };
}

async function fillPassword(page: Page, username: string, password: string) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('signing in with MFA asks for the code, refuses a wrong one, and takes a recovery code', async ({ page, api }) => {
  const { account, secret, recovery } = await userWithMfa(api);

  await fillPassword(page, account.username, account.password);
  const code = page.getByLabel('Authentication code');
  await expect(code).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await shot(page, 'shell-login-code');
  await expectAccessible(page, 'the authentication code prompt');

  await code.fill(wrongTotp(secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(loginHeading(page)).toBeVisible();

  await code.fill(totp(secret));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(dashboard(page)).toBeVisible();
  await expect(page).toHaveURL(/\/$/);

  await signOut(page);
  await fillPassword(page, account.username, account.password);
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code').fill(recovery[0] ?? '');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(dashboard(page)).toBeVisible();

  // Each recovery code works once.
  await signOut(page);
  await fillPassword(page, account.username, account.password);
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code').fill(recovery[0] ?? '');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(dashboard(page)).toHaveCount(0);
});

test('signing out ends the session: a reload stays on the login page', async ({ page }) => {
  await signIn(page, 'operator');
  await signOut(page);
  await expect(page).toHaveURL(/\/login$/);
  await page.reload();
  await expect(loginHeading(page)).toBeVisible();
  await page.goto('/jobs');
  await expect(loginHeading(page)).toBeVisible();
  await expect(page).toHaveURL(/\/login$/);
});

test('a reload keeps the user signed in, with the token in memory and the refresh token in an HttpOnly cookie', async ({
  page,
  context,
}) => {
  const login = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/console/login') && r.status() === 200);
  await signIn(page, 'operator');
  const { access_token } = (await (await login).json()) as { access_token: string };
  expect(access_token.length).toBeGreaterThan(20);

  const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/console/refresh'));
  await page.reload();
  expect((await refreshed).status()).toBe(200);
  await expect(dashboard(page)).toBeVisible();
  await expect(loginHeading(page)).toHaveCount(0);

  const seen = await page.evaluate(() => ({
    storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
  }));
  expect(seen.storage).not.toContain(access_token);
  expect(seen.storage).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  const httpOnly = (await context.cookies()).filter((c) => c.httpOnly);
  expect(httpOnly.length, 'the refresh token is an HttpOnly cookie').toBeGreaterThan(0);
  for (const c of httpOnly) {
    expect(c.sameSite).toBe('Strict');
    expect(c.secure).toBe(true);
    expect(seen.cookie).not.toContain(c.value);
    expect(seen.storage).not.toContain(c.value);
  }
});

test('an ended session asks for the password over the page and keeps what the user typed', async ({ page, api }) => {
  const account = await api.createUser(unique('expiry'), 'operator');
  await signIn(page, account);
  await page.goto('/groups/new');
  const name = unique('kept-group');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description').fill('typed before the session ended');
  await page.getByLabel('Also include every target matching a selector').check();
  await page.getByLabel('Selector tags').fill('kept, typed');

  // The user's sessions end elsewhere (revoke-all from another sign-in):
  // the access token in the page and its refresh cookie both stop working.
  const other = await api.as(account);
  const revoked = await other.call('POST', '/api/v1/auth/revoke-all', {});
  expect(revoked.status, JSON.stringify(revoked.body)).toBe(204);

  await page.getByRole('button', { name: 'Create group' }).click();
  const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Username')).toHaveValue(account.username);
  await shot(page, 'session-expired');
  // Escape does not dismiss it: behind it the page has no session.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeVisible();
  await dialog.getByLabel('Password').fill(account.password);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await expect(dialog).toHaveCount(0);

  // Nothing typed was lost, and the save goes through on the new session.
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue(name);
  await expect(page.getByLabel('Description')).toHaveValue('typed before the session ended');
  await expect(page.getByLabel('Selector tags')).toHaveValue('kept, typed');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
});

const EDIT = /^(new|create|add|import|edit|delete|remove|clone|run|save)\b/i;

/** The buttons and links on the page whose names offer a change. */
async function changeControls(page: Page): Promise<string[]> {
  const names: string[] = [];
  for (const role of ['button', 'link'] as const) {
    for (const el of await page.getByRole('main').getByRole(role).all()) {
      const name = ((await el.getAttribute('aria-label')) ?? (await el.innerText())).trim();
      if (EDIT.test(name)) names.push(`${role} "${name}"`);
    }
  }
  return names;
}

const ROOMS = [
  { path: '/jobs', title: 'Jobs' },
  { path: '/targets', title: 'Targets' },
  { path: '/credentials', title: 'Credentials' },
];

test('a viewer is offered no create, edit or delete, and the API refuses a direct call', async ({ page, stack, api }) => {
  await signIn(page, 'viewer');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toHaveCount(0);
  for (const room of ROOMS) {
    await page.goto(room.path);
    await expect(page.getByRole('heading', { name: room.title, level: 1 })).toBeVisible();
    await page.waitForLoadState('networkidle');
    expect(await changeControls(page), `a viewer's ${room.title} page`).toEqual([]);
    if (room.path === '/jobs') await shot(page, 'shell-viewer-jobs');
  }

  const viewer = await api.as(stack.viewer);
  const name = unique('viewer-job');
  const refused = await viewer.call('POST', '/api/v1/jobs', {
    name,
    steps: [{ id: 'w', type: 'wait', with: { seconds: 1 } }],
  });
  expect(refused.status).toBe(403);
  expect((refused.body as { type?: string }).type).toMatch(/^https:\/\//);
  const jobs = await api.get<{ items?: { name: string }[] }>('/api/v1/jobs?limit=200');
  expect(JSON.stringify(jobs)).not.toContain(name);
});

test('an admin is offered create controls on the same pages (so the viewer check means something)', async ({ page }) => {
  await signIn(page, 'admin');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' })).toBeVisible();
  for (const room of ROOMS) {
    await page.goto(room.path);
    await expect(page.getByRole('heading', { name: room.title, level: 1 })).toBeVisible();
    await expect
      .poll(() => changeControls(page), { message: `an admin's ${room.title} page offers a change` })
      .not.toEqual([]);
  }
});

test.describe('the theme', () => {
  test.use({ colorScheme: 'light' });

  test('dark is remembered after a reload', async ({ page }) => {
    await signIn(page, 'operator');
    await openAccountMenu(page);
    await page.getByLabel('Theme').selectOption({ label: 'Dark' });
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await page.reload();
    await expect(dashboard(page)).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await shot(page, 'shell-dark');
    await expectAccessible(page, 'the dashboard in the dark theme');
    await openAccountMenu(page);
    await expect(page.getByLabel('Theme')).toHaveValue('dark');
    await page.getByLabel('Theme').selectOption({ label: 'Light' });
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  });
});

test.describe('on a 390 px wide phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  const scrollWidth = (page: Page) => page.evaluate(() => document.scrollingElement?.scrollWidth ?? 0);

  test('the navigation opens from the menu button and nothing overflows sideways', async ({ page }) => {
    await page.goto('/login');
    await expect(loginHeading(page)).toBeVisible();
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);

    await signIn(page, 'operator');
    await expect(dashboard(page)).toBeVisible();
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    const nav = page.getByRole('navigation', { name: 'Main' });
    const jobs = nav.getByRole('link', { name: 'Jobs' });
    await expect(jobs).toBeHidden();
    await page.getByRole('button', { name: 'Open menu' }).click();
    await expect(jobs).toBeVisible();
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    await shot(page, 'shell-phone-menu');
    await jobs.click();
    await expect(page).toHaveURL(/\/jobs$/);
    await expect(page.getByRole('heading', { name: 'Jobs', level: 1 })).toBeVisible();
    await expect(jobs).toBeHidden();
    expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
  });
});

test('the login page and the dashboard have no serious accessibility violation', async ({ page }) => {
  await page.goto('/login');
  await expect(loginHeading(page)).toBeVisible();
  await shot(page, 'shell-login');
  await expectAccessible(page, 'the login page');

  await page.getByLabel('Username').fill('nobody-here');
  await page.getByLabel('Password').fill('not-the-password-1');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expectAccessible(page, 'the login page with an error');

  await signIn(page, 'admin');
  await expect(dashboard(page)).toBeVisible();
  // Not 'networkidle': the live activity's event stream stays open.
  await expect(page.getByText('Live: runs appear as they start and end.')).toBeVisible();
  await expect(page.locator('.loading')).toHaveCount(0);
  await shot(page, 'shell-dashboard');
  await expectAccessible(page, 'the dashboard');
});

test('the keyboard reaches "Skip to content" first, then the navigation', async ({ page }) => {
  await signIn(page, 'operator');
  await page.goto('/');
  await expect(dashboard(page)).toBeVisible();

  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused();

  await page.goto('/');
  await expect(dashboard(page)).toBeVisible();
  const inNav = () =>
    page.evaluate(() => document.activeElement?.closest('nav[aria-label="Main"]') !== null && document.activeElement?.tagName === 'A');
  let reached = false;
  for (let i = 0; i < 30 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await inNav();
  }
  expect(reached, 'Tab reaches a link of the Main navigation within 30 presses').toBe(true);
});
