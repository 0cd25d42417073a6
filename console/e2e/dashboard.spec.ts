// The dashboard: after a few runs, the chart's table view counts them and
// live activity lists them; the period selector goes to the URL.
import { expect, expectAccessible, shot, signIn, test, unique } from './fixtures';

test('the dashboard shows recent runs in the chart table and in live activity', async ({ page, api, stack }) => {
  const name = unique('dash');
  const job = await api.post<{ id: string }>('/api/v1/jobs', {
    name,
    pool: stack.pool,
    tags: ['console-e2e', 'dashboard'],
    steps: [{ id: 'pause', type: 'wait', with: { seconds: 0 } }],
  });
  const runs: string[] = [];
  for (let i = 0; i < 3; i++) runs.push((await api.post<{ run_id: string }>(`/api/v1/jobs/${job.id}/run`, { parameters: {} })).run_id);
  for (const id of runs) {
    await expect.poll(async () => (await api.get<{ status: string }>(`/api/v1/runs/${id}`)).status, { timeout: 30_000 }).toBe('succeeded');
  }

  await signIn(page, 'viewer');
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  const totals = page.getByRole('definition').first();
  await expect(totals).not.toHaveText('0');

  // Live activity names the job's runs, linked.
  const activity = page.getByRole('list', { name: 'Runs starting and ending' });
  await expect(activity.getByRole('listitem').filter({ hasText: name }).filter({ hasText: 'ended' })).toHaveCount(3, { timeout: 30_000 });
  await expect(activity.getByRole('link', { name }).first()).toHaveAttribute('href', /\/runs\/[0-9a-f-]{36}$/);

  // The jobs table has the job with its three runs.
  await expect(page.getByRole('table', { name: 'Success rate and duration per job' }).getByRole('row', { name: new RegExp(name) })).toContainText('3');
  await expectAccessible(page, 'the dashboard');
  await shot(page, 'dashboard');

  // The chart's table view: an hour with at least our three succeeded runs.
  await page.getByRole('button', { name: 'Table view' }).click();
  const table = page.getByRole('table', { name: 'Runs per hour by status' });
  await expect(table).toBeVisible();
  const counts = await table.locator('tbody tr td:last-child').allTextContents();
  expect(counts.map(Number).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
  await expectAccessible(page, 'the dashboard table view');

  await page.getByLabel('Period', { exact: true }).selectOption('7d');
  await expect(page).toHaveURL(/period=7d/);
  await expect(page.locator('.page-subtitle')).toContainText('Last 7 days');
});

test('live activity shows a run start and end while the dashboard is open, over the event stream', async ({ page, api, stack }) => {
  const name = unique('dash-live');
  const job = await api.post<{ id: string }>('/api/v1/jobs', {
    name,
    pool: stack.pool,
    tags: ['console-e2e', 'dashboard'],
    steps: [{ id: 'pause', type: 'wait', with: { seconds: 2 } }],
  });
  await signIn(page, 'viewer');
  const streamed = page.waitForResponse((r) => r.url().endsWith('/api/v1/runs/activity') && r.status() === 200);
  await page.goto('/');
  await streamed;
  const activity = page.getByRole('list', { name: 'Runs starting and ending' }).or(page.getByText('Nothing has run yet'));
  await expect(activity.first()).toBeVisible();
  await expect(page.getByText('Live: runs appear as they start and end.')).toBeVisible();
  // The list is not polled any more: whatever shows now came through the stream.
  let listed = 0;
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/runs') listed += 1;
  });

  const { run_id } = await api.post<{ run_id: string }>(`/api/v1/jobs/${job.id}/run`, { parameters: {} });
  const feed = page.getByRole('list', { name: 'Runs starting and ending' });
  const ours = feed.getByRole('listitem').filter({ hasText: name });
  await expect(ours.filter({ hasText: 'started' })).toHaveCount(1, { timeout: 30_000 });
  await expect(ours.filter({ hasText: 'ended' })).toHaveCount(1, { timeout: 30_000 });
  await expect(ours.filter({ hasText: 'ended' }).getByRole('link', { name })).toHaveAttribute('href', `/runs/${run_id}`);
  await expect(ours.filter({ hasText: 'ended' })).toContainText('succeeded');
  expect(listed, 'no list request: the run came over the event stream').toBe(0);
  await feed.scrollIntoViewIfNeeded();
  await shot(page, 'dashboard-live');
});
