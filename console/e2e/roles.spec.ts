// A viewer walks every room and is offered no control that creates,
// changes, deletes or runs anything; the admin-only sections say so
// plainly; and the API itself refuses the viewer's direct call.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, shot, signIn, test, unique } from './fixtures';

/** Names of controls that would change something (buttons and links in the page's main region).
 * "Run" alone or "Run now" starts a run; "Run 01a2… of job" is a link to read one. */
const CHANGE =
  /^(new|create|add|import|edit|delete|remove|clone|duplicate|launch|start|save|enable|disable|pause|resume|approve|resend|test|revoke|set|unlock|cancel run|re-?run)\b|^run(\s+(now|job|it|again|this|with)\b|\s*…?$)/i;

async function changeControls(page: Page): Promise<string[]> {
  const names: string[] = [];
  for (const role of ['button', 'link'] as const) {
    for (const el of await page.getByRole('main').getByRole(role).all()) {
      const name = ((await el.getAttribute('aria-label')) ?? (await el.innerText())).trim();
      if (CHANGE.test(name)) names.push(`${role} "${name}"`);
    }
  }
  return names;
}

async function visit(page: Page, path: string, title: string | RegExp) {
  await page.goto(path);
  await expect(page.getByRole('heading', { name: title, level: 1 })).toBeVisible();
  await page.waitForLoadState('networkidle');
}

test('a viewer is offered no create, edit, delete or run control in any room, and the API refuses a direct call', async ({
  page,
  api,
  stack,
}) => {
  // Fourteen pages, each checked by axe.
  test.setTimeout(180_000);
  const job = await api.post<{ id: string; name: string }>('/api/v1/jobs', {
    name: unique('roles-job'),
    pool: stack.pool,
    steps: [{ id: 'pause', type: 'wait', with: { seconds: 0 } }],
  });
  const login = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/console/login') && r.status() === 200);
  await signIn(page, 'viewer');
  const { access_token } = (await (await login).json()) as { access_token: string };

  const rooms: { path: string; title: string | RegExp; shot?: string }[] = [
    { path: '/jobs', title: 'Jobs', shot: 'roles-viewer-jobs' },
    { path: `/jobs/${job.id}`, title: job.name },
    { path: '/targets', title: 'Targets' },
    { path: '/groups', title: 'Groups' },
    { path: '/credentials', title: 'Credentials' },
    { path: '/runs', title: 'Runs' },
    { path: '/schedules', title: 'Schedules' },
    { path: '/notifications', title: 'Notifications' },
    { path: '/admin/workers', title: 'Workers' },
  ];
  for (const room of rooms) {
    await visit(page, room.path, room.title);
    expect(await changeControls(page), `the viewer's page ${room.path}`).toEqual([]);
    if (room.shot) await shot(page, room.shot);
    await expectAccessible(page, `the viewer's page ${room.path}`);
  }

  // Administration: a viewer sees only its own tokens and the workers…
  await visit(page, '/admin', 'API tokens');
  await expect(page).toHaveURL(/\/admin\/tokens$/);
  await expect(page.getByRole('navigation', { name: 'Administration' }).getByRole('link')).toHaveText(['API tokens', 'Workers']);
  // …where the only changes offered are to its own tokens (viewer+ in the API).
  const own = (await changeControls(page)).filter((c) => !/^button "(Create token|Revoke .+)"$/.test(c));
  expect(own, "the viewer's tokens page").toEqual([]);
  await expectAccessible(page, "the viewer's tokens page");

  // …and a direct visit to an admin-only section is a clear refusal with nothing to click.
  for (const path of ['/admin/users', '/admin/users/new', '/admin/security', '/admin/audit']) {
    await visit(page, path, 'Not allowed');
    await expect(page.getByRole('main')).toContainText('Only admins manage');
    expect(await changeControls(page), `the viewer's page ${path}`).toEqual([]);
    await expectAccessible(page, `the refusal at ${path}`);
  }

  // The API enforces it whatever the console offers: the viewer's own token is refused with problem+json.
  const name = unique('viewer-job');
  const refused = await page.request.post('/api/v1/jobs', {
    headers: { Authorization: `Bearer ${access_token}` },
    data: { name, pool: stack.pool, steps: [{ id: 'w', type: 'wait', with: { seconds: 1 } }] },
  });
  expect(refused.status()).toBe(403);
  expect(refused.headers()['content-type']).toMatch(/^application\/problem\+json/);
  const problem = (await refused.json()) as { status?: number; type?: string; title?: string };
  expect(problem.status).toBe(403);
  expect(problem.type).toMatch(/^https:\/\//);
  const listUsers = await page.request.get('/api/v1/users', { headers: { Authorization: `Bearer ${access_token}` } });
  expect(listUsers.status()).toBe(403);
  const jobs = await api.get<{ items?: { name: string }[] }>(`/api/v1/jobs?name=${name}`);
  expect(JSON.stringify(jobs)).not.toContain(name);
});
