// The jobs room: the list with its filters, a job's page and its versions
// diff, a run started from the generated parameter form (a double click
// starts one run), and a viewer offered no control it may not use.
import type { Page } from '@playwright/test';
import { expect, expectAccessible, shot, signIn, test, unique, type Api, type Stack } from './fixtures';

interface Job {
  id: string;
  name: string;
}

function definition(name: string, pool: string, seconds: number, description: string) {
  return {
    name,
    description,
    pool,
    tags: ['console-e2e', 'jobs-room'],
    parameters: {
      message: { type: 'string', required: true, description: 'What to say' },
      count: { type: 'int', default: 2 },
      mode: { type: 'enum', choices: ['fast', 'safe'], default: 'safe' },
      verbose: { type: 'bool' },
      token: { type: 'secret' },
    },
    steps: [{ id: 'pause', type: 'wait', with: { seconds } }],
  };
}

/** A job with two versions (the second changes the description and the step). */
async function jobWithTwoVersions(api: Api, stack: Stack): Promise<Job> {
  const name = unique('jobs-room');
  const job = await api.post<Job>('/api/v1/jobs', definition(name, stack.pool, 0, 'First version'));
  await api.put(`/api/v1/jobs/${job.id}`, definition(name, stack.pool, 1, 'Second version'));
  return job;
}

async function runsOf(api: Api, jobId: string): Promise<number> {
  const page = await api.get<{ total: number }>(`/api/v1/runs?job_id=${jobId}`);
  return page.total;
}

async function openJob(page: Page, job: Job) {
  await page.goto(`/jobs?name=${encodeURIComponent(job.name)}`);
  await expect(page.getByRole('heading', { name: 'Jobs', level: 1 })).toBeVisible();
  await expect(page.getByLabel('Name contains')).toHaveValue(job.name);
  await expect(page.getByRole('link', { name: job.name })).toBeVisible();
}

test('list, job page, versions diff, and a run with parameters started once by a double click', async ({ page, api, stack }) => {
  const job = await jobWithTwoVersions(api, stack);
  await signIn(page, 'admin');

  // The list, filtered through the URL.
  await openJob(page, job);
  await expect(page.getByRole('row', { name: new RegExp(job.name) })).toContainText('jobs-room');
  await expect(page.getByRole('row', { name: new RegExp(job.name) })).toContainText('never');
  await expectAccessible(page, 'the jobs list');
  await shot(page, 'jobs-list');

  // Filters go to the URL and the API: a tag nobody carries finds nothing.
  await page.getByLabel('Tags').fill('no-such-tag-anywhere');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/tag=no-such-tag-anywhere/);
  await expect(page.getByText('No job matches these filters.')).toBeVisible();
  await openJob(page, job);

  // The job page: its definition in YAML.
  await page.getByRole('link', { name: job.name }).click();
  await expect(page.getByRole('heading', { name: job.name, level: 1 })).toBeVisible();
  await expect(page.getByLabel('Job definition in YAML')).toContainText('Second version');
  await expectAccessible(page, 'the job page');
  await shot(page, 'job-page');

  // Versions: 1 → 2, added and removed lines marked with a sign.
  await page.getByRole('tab', { name: 'Versions' }).click();
  const diff = page.getByRole('region', { name: 'Changes from version 1 to version 2' });
  await expect(diff).toBeVisible();
  await expect(diff.locator('.jobs-diff-removed')).toContainText(['First version']);
  await expect(diff.locator('.jobs-diff-added')).toContainText(['Second version']);
  await expect(diff.locator('.jobs-diff-added .jobs-diff-sign').first()).toContainText('+');
  await expect(diff.locator('.jobs-diff-removed .jobs-diff-sign').first()).toContainText('-');
  await expectAccessible(page, 'the versions diff');

  // The run dialog: the form follows the parameters; a required one is asked for.
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Run ${job.name}` });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('count')).toHaveValue('2');
  await expect(dialog.getByLabel('token')).toHaveAttribute('type', 'password');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await expect(dialog.getByText('Required.')).toBeVisible();
  await dialog.getByLabel('message (required)').fill('hello from the console');
  await dialog.getByLabel('count').fill('3');
  await dialog.getByLabel('mode').selectOption('fast');
  await dialog.getByLabel('verbose').check();
  await dialog.getByLabel('token').fill('s3cret-value');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  await expect(dialog.getByRole('region', { name: 'Dry run' })).toContainText('pause (wait)');
  await expect(dialog.getByRole('region', { name: 'Dry run' })).not.toContainText('s3cret-value');
  await expectAccessible(page, 'the run dialog');
  await shot(page, 'job-run-dialog');
  expect(await runsOf(api, job.id)).toBe(0);

  await dialog.getByRole('button', { name: 'Start run' }).dblclick();
  await expect(page).toHaveURL(/\/runs\/[0-9a-f-]{36}$/);
  const runId = page.url().split('/').pop() ?? '';
  expect(await runsOf(api, job.id)).toBe(1);
  const run = await api.get<{ parameters: Record<string, unknown> }>(`/api/v1/runs/${runId}`);
  expect(run.parameters).toMatchObject({ message: 'hello from the console', count: 3, mode: 'fast', verbose: true });
  expect(JSON.stringify(run.parameters)).not.toContain('s3cret-value');
});

test('jobs are disabled in bulk; a viewer is offered no control it may not use', async ({ page, api, stack }) => {
  const job = await jobWithTwoVersions(api, stack);

  await signIn(page, 'admin');
  await openJob(page, job);
  await page.getByRole('checkbox', { name: `Select ${job.name}` }).check();
  await page.getByRole('group', { name: 'Selected jobs' }).getByRole('button', { name: 'Disable' }).click();
  await expect(page.getByRole('row', { name: new RegExp(job.name) })).toContainText('Inactive');
  expect((await api.get<{ active: boolean }>(`/api/v1/jobs/${job.id}`)).active).toBe(false);

  await page.context().clearCookies();
  await signIn(page, 'viewer');
  await openJob(page, job);
  await expect(page.getByRole('link', { name: 'New job' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Import' })).toHaveCount(0);
  await expect(page.getByRole('checkbox')).toHaveCount(0);
  await expectAccessible(page, 'the jobs list as a viewer');

  await page.getByRole('link', { name: job.name }).click();
  await expect(page.getByRole('heading', { name: job.name, level: 1 })).toBeVisible();
  for (const name of ['Run', 'Clone', 'Delete', 'Enable', 'Disable']) {
    await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Export YAML' })).toBeVisible();
  await expectAccessible(page, 'the job page as a viewer');
});
