// The runs room: a run started from the run dialog with parameters, its
// timeline and output arriving live (a line printed mid-run is on the page
// before the run ends), found with the find box, followed in tail mode;
// a long run cancelled from its page; ANSI colours as styled spans; the
// list filtered through the URL; a viewer offered no cancel or re-run; a
// hidden tab's stream closed and resumed from its last frame.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, shot, signIn, test, unique, type Api, type Stack } from './fixtures';

interface Job {
  id: string;
  name: string;
}

/** A job of `local.exec` steps on the installation's pool, saved by the
 * admin (commands on the worker host need an admin author) and runnable
 * by the operator. */
async function job(api: Api, stack: Stack, prefix: string, steps: { id: string; command: string }[], parameters: Record<string, unknown> = {}): Promise<Job> {
  const name = unique(prefix);
  const created = await api.post<Job>('/api/v1/jobs', {
    name,
    pool: stack.pool,
    tags: ['console-e2e', 'runs-room'],
    parameters,
    steps: steps.map((s) => ({ id: s.id, type: 'local.exec', with: { command: s.command } })),
  });
  await api.put(`/api/v1/jobs/${created.id}/grants`, { grants: [{ kind: 'user', username: stack.operator.username, access: 'run' }] });
  return created;
}

async function status(api: Api, runId: string): Promise<string> {
  return (await api.get<{ status: string }>(`/api/v1/runs/${runId}`)).status;
}

const summary = (page: Page) => page.getByRole('region', { name: 'Summary' });

test('a run started with parameters shows its timeline and output live, searchable, in tail mode', async ({ page, api, stack }) => {
  test.setTimeout(120_000);
  const j = await job(
    api,
    stack,
    'runs-live',
    [
      { id: 'prepare', command: 'echo preparing for {{ params.greeting }}; sleep 1' },
      {
        id: 'count',
        command: 'echo hello {{ params.greeting }}; i=1; while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done; echo MIDRUN-MARKER; sleep 15; echo all-done',
      },
    ],
    { greeting: { type: 'string', required: true, description: 'Who to greet' } },
  );
  await signIn(page, 'operator');
  await page.goto(`/jobs/${j.id}`);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Run ${j.name}` });
  await dialog.getByLabel('greeting (required)').fill('world');
  await dialog.getByRole('button', { name: 'Start run' }).click();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const runId = page.url().split('/').pop() ?? '';
  await expect(page.getByRole('heading', { name: new RegExp(j.name), level: 1 })).toBeVisible();

  // Live: the timeline's bars and the output arrive while the run goes on.
  const timeline = page.getByRole('group', { name: "Timeline of the run's steps" });
  await expect(timeline.getByRole('button', { name: /^prepare on worker: succeeded/ })).toBeVisible({ timeout: 30_000 });
  await expect(timeline.getByRole('button', { name: /^count on worker: running/ })).toBeVisible();
  const output = page.getByRole('region', { name: 'Output lines' });
  await expect(output).toContainText('MIDRUN-MARKER', { timeout: 30_000 });
  expect(await status(api, runId), 'the marker showed before the run ended').toBe('running');
  await expect(output).toContainText('line 300');
  // Virtualised: far fewer line elements than lines.
  expect(await output.locator('.out-line').count()).toBeLessThan(150);
  await expect(page.getByRole('button', { name: 'Follow output' })).toHaveAttribute('aria-pressed', 'true');
  await expect(summary(page)).toContainText('running');
  await expectAccessible(page, 'a running run');
  await page.getByRole('heading', { name: 'Timeline' }).scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById('run-timeline')?.scrollIntoView({ block: 'start' }));
  await shot(page, 'run-live');

  // Find: 11 lines hold "line 17" (17, 170-179); next/previous move between them.
  await page.getByLabel('Find in output').fill('line 17');
  await expect(page.locator('#out-matches')).toHaveText('1 of 11');
  await page.getByRole('button', { name: 'Next match' }).click();
  await expect(page.locator('#out-matches')).toHaveText('2 of 11');
  await expect(output.locator('mark.out-hit-current')).toHaveText('line 17');
  await expect(output.locator('.out-line-current')).toContainText('line 170');
  await page.getByRole('button', { name: 'Previous match' }).click();
  await expect(page.locator('#out-matches')).toHaveText('1 of 11');
  // Moving to a match left tail mode; the toggle brings it back.
  const follow = page.getByRole('button', { name: 'Follow output' });
  await expect(follow).toHaveAttribute('aria-pressed', 'false');
  await follow.click();
  await expect(follow).toHaveAttribute('aria-pressed', 'true');

  // The end arrives on the same page, followed to the last line.
  await expect(output).toContainText('all-done', { timeout: 30_000 });
  await expect(summary(page)).toContainText('succeeded', { timeout: 30_000 });
  await expect(page.getByRole('table', { name: 'Steps, their exit codes and errors' })).toContainText('count');
  await expect(timeline.getByRole('button', { name: /^count on worker: succeeded/ })).toBeVisible();
  // One step's output only.
  await timeline.getByRole('button', { name: /^prepare on worker/ }).click();
  await expect(output).toContainText('preparing for world');
  await expect(output).not.toContainText('MIDRUN-MARKER');
  await expectAccessible(page, 'a finished run');

  // The list, filtered by job through the URL, links to the run.
  await page.goto(`/runs?job=${j.id}`);
  await expect(page.getByLabel('Job', { exact: true })).toHaveValue(j.id);
  const row = page.getByRole('row', { name: new RegExp(j.name) });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('succeeded');
  await expect(row.getByRole('button', { name: /^Re-run/ })).toBeVisible();
  await expectAccessible(page, 'the runs list');
  await shot(page, 'runs-list');
  await page.getByLabel('Status', { exact: true }).selectOption('failed');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/status=failed/);
  await expect(page.getByText('No run matches these filters.')).toBeVisible();
});

test('a long run is cancelled from its page and ends as cancelled', async ({ page, api, stack }) => {
  const j = await job(api, stack, 'runs-cancel', [{ id: 'long', command: 'echo started; sleep 120' }]);
  const operator = await api.as(stack.operator);
  const { run_id: runId } = await operator.post<{ run_id: string }>(`/api/v1/jobs/${j.id}/run`, { parameters: {} });
  await signIn(page, 'operator');
  await page.goto(`/runs/${runId}`);
  await expect(page.getByRole('region', { name: 'Output lines' })).toContainText('started', { timeout: 30_000 });
  await expect(summary(page)).toContainText('running');
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: /^Cancel run/ });
  await expectAccessible(page, 'the cancel dialog');
  await dialog.getByRole('button', { name: 'Cancel run' }).dblclick();
  await expect(summary(page)).toContainText('cancelled', { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Cancel', exact: true })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Re-run' })).toBeVisible();
  expect(await status(api, runId)).toBe('cancelled');
  await expectAccessible(page, 'a cancelled run');
  await shot(page, 'run-cancelled');

  // Re-run it: a double click on the dialog's button starts one re-run.
  await page.getByRole('button', { name: 'Re-run' }).click();
  const again = page.getByRole('dialog', { name: `Re-run ${j.name}` });
  await expect(again).toContainText('runs again with the same parameters and targets');
  await expectAccessible(page, 'the re-run dialog');
  await again.getByRole('button', { name: 'Re-run' }).dblclick();
  await expect(page).not.toHaveURL(new RegExp(runId));
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const rerunId = page.url().split('/').pop() ?? '';
  expect(rerunId).not.toBe(runId);
  const reruns = await api.get<{ items: { id: string; rerun_of?: string | null }[] }>(`/api/v1/runs?job_id=${j.id}&trigger=rerun`);
  expect(reruns.items.map((r) => [r.id, r.rerun_of])).toEqual([[rerunId, runId]]);
  await expect(page.getByRole('region', { name: 'Related runs' }).getByRole('link', { name: runId.slice(-8) })).toBeVisible();
  await operator.post(`/api/v1/runs/${rerunId}/cancel`);
});

test('ANSI colours show as styled spans; a viewer is offered no cancel or re-run', async ({ page, api, stack }) => {
  const j = await job(api, stack, 'runs-ansi', [{ id: 'colour', command: "printf '\\033[31mred alert\\033[0m and \\033[1;32mbold green\\033[0m\\n'" }]);
  const { run_id: runId } = await api.post<{ run_id: string }>(`/api/v1/jobs/${j.id}/run`, { parameters: {} });
  await expect.poll(() => status(api, runId), { timeout: 30_000 }).toBe('succeeded');

  await signIn(page, 'viewer');
  await page.goto(`/runs/${runId}`);
  const output = page.getByRole('region', { name: 'Output lines' });
  await expect(output.locator('span.ansi-fg-1')).toHaveText('red alert');
  await expect(output.locator('span.ansi-fg-2.ansi-bold')).toHaveText('bold green');
  await expect(output).not.toContainText('[31m');
  await expect(page.getByRole('button', { name: 'Re-run' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Cancel', exact: true })).toHaveCount(0);
  await expectAccessible(page, 'a run as a viewer');

  await page.goto(`/runs?job=${j.id}`);
  await expect(page.getByRole('row', { name: new RegExp(j.name) })).toHaveCount(1);
  await expect(page.getByRole('columnheader', { name: 'Actions' })).toHaveCount(0);
  await expectAccessible(page, 'the runs list as a viewer');
});

/** Makes the page's document hidden or visible, as switching tabs does. */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('a hidden tab closes the live output and resumes after its last line, with no gap and nothing twice', async ({ page, api, stack }) => {
  test.setTimeout(120_000);
  const j = await job(api, stack, 'runs-resume', [
    { id: 'tick', command: 'i=1; while [ $i -le 40 ]; do echo "tick $i"; i=$((i+1)); sleep 0.25; done' },
  ]);
  const operator = await api.as(stack.operator);
  const streams: { lastEventId: string | null }[] = [];
  page.on('request', (r) => {
    if (/\/api\/v1\/runs\/[0-9a-f-]{36}\/stream$/.test(r.url())) streams.push({ lastEventId: r.headers()['last-event-id'] ?? null });
  });
  const { run_id: runId } = await operator.post<{ run_id: string }>(`/api/v1/jobs/${j.id}/run`, { parameters: {} });
  await signIn(page, 'operator');
  await page.goto(`/runs/${runId}`);
  const lines = page.getByRole('region', { name: 'Output lines' });
  await expect(lines).toContainText('tick 3', { timeout: 30_000 });

  // Hidden: the stream is closed while the run goes on printing.
  await setHidden(page, true);
  await expect(page.getByText('Paused while this tab is hidden')).toBeVisible();
  await page.waitForTimeout(2_500);
  expect(await status(api, runId)).toBe('running');

  // Visible again: one new stream, sent from the last frame it had.
  await setHidden(page, false);
  await expect(summary(page)).toContainText('succeeded', { timeout: 60_000 });
  await expect(page.getByText(/· 40 lines/)).toBeVisible();
  expect(streams.length).toBeGreaterThanOrEqual(2);
  expect(streams[0]?.lastEventId).toBeNull();
  for (const later of streams.slice(1)) expect(later.lastEventId).toMatch(/^\d+\.\d+$/);
  // Every line once, in order (the view is virtualised: read the store's count and the end).
  await expect(lines).toContainText('tick 40');
});
