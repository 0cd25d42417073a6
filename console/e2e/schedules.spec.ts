// The schedules room: an operator schedules a job every minute (the api's
// error shown on the cron field first), finds the fire on the calendar's
// week and day views, sees the run it starts on time on the schedule's
// page, pauses the schedule and deletes it.
import { Api, expect, expectAccessible, shot, signIn, test, unique } from './fixtures';

interface Job {
  id: string;
  name: string;
}

test('schedule a job, see it on the calendar, see it run on time, pause it', async ({ page, stack }) => {
  test.setTimeout(240_000);
  const operator = await Api.login(stack.base_url, stack.operator);
  const job = await operator.post<Job>('/api/v1/jobs', {
    name: unique('sched-job'),
    description: 'Started by the schedules journey',
    pool: stack.pool,
    tags: ['console-e2e'],
    steps: [{ id: 'pause', type: 'wait', with: { seconds: 0 } }],
  });
  const name = unique('every-minute');

  await signIn(page, 'operator');
  await page.goto('/schedules');
  await expect(page.getByRole('heading', { name: 'Schedules', level: 1 })).toBeVisible();
  await expectAccessible(page, 'the schedules list');

  // The form: the cron field reads the expression; the api's refusal lands on the field.
  await page.getByRole('link', { name: 'New schedule' }).click();
  await expect(page.getByRole('heading', { name: 'New schedule' })).toBeVisible();
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Job', { exact: true }).selectOption({ label: job.name });
  await page.getByLabel('Cron expression').fill('61 * * * *');
  await expect(page.getByText(/Cannot read it/)).toBeVisible();
  await page.getByLabel('Time zone', { exact: true }).selectOption('UTC');
  await expectAccessible(page, 'the schedule form');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  const cronField = page.locator('.field', { has: page.getByLabel('Cron expression') });
  await expect(cronField.getByRole('alert')).toContainText(/minute/i);
  // Nothing typed was lost.
  await expect(page.getByLabel('Name')).toHaveValue(name);
  // Before anything is saved, the api's engine lists the next fires as typed.
  const nextFires = page.getByRole('region', { name: 'Next fires' });
  await page.getByLabel('Cron expression').fill('0 3 * * *');
  await expect(nextFires.getByRole('listitem')).toHaveCount(5);
  await expect(nextFires.getByRole('listitem').first()).toContainText(/ 03:00:00\+00:00/);
  await page.getByLabel('Cron expression').fill('61 * * * *');
  await expect(nextFires).toContainText('None while the expression');
  await page.getByLabel('Cron expression').fill('* * * * *');
  await expect(page.getByText('Reads: Every minute.')).toBeVisible();
  await expect(nextFires.getByRole('listitem')).toHaveCount(5);
  await page.getByRole('button', { name: 'Create schedule' }).dblclick();

  // The schedule's page: next fires in its zone.
  await expect(page).toHaveURL(/\/schedules\/[0-9a-f-]{36}$/);
  const scheduleId = page.url().split('/').pop() ?? '';
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  const next = page.getByRole('table', { name: `Next fires of ${name}` });
  await expect(next).toContainText('+00:00');
  const all = await operator.get<{ items: { name: string }[] }>('/api/v1/schedules?limit=500');
  expect(all.items.filter((s) => s.name === name)).toHaveLength(1);

  // The calendar: the fire in the week and day views, today marked, keyboard moves.
  await page.getByRole('navigation', { name: 'Schedules' }).getByRole('link', { name: 'Calendar' }).click();
  await expect(page.getByRole('heading', { name: 'Calendar', level: 1 })).toBeVisible();
  await page.getByLabel('Time zone shown').selectOption('UTC');
  await page.getByRole('button', { name: 'Week', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Week', exact: true })).toHaveAttribute('aria-pressed', 'true');
  const week = page.getByRole('group', { name: /^Week of/ });
  await expect(week.getByRole('link', { name }).first()).toBeVisible();
  await expect(week.locator('[aria-current="date"]')).toHaveCount(1);
  await expectAccessible(page, 'the calendar, week');
  await shot(page, 'schedules-calendar');

  await page.getByRole('button', { name: 'Day', exact: true }).click();
  const day = page.getByRole('table', { name: /^Fires and maintenance windows on/ });
  await expect(day.getByRole('link', { name }).first()).toBeVisible();
  await expectAccessible(page, 'the calendar, day');

  await page.getByRole('button', { name: 'Month', exact: true }).click();
  const today = page.getByRole('button', { name: /, today:/ });
  await today.focus();
  const todayKey = await today.getAttribute('data-day');
  await page.keyboard.press('ArrowRight');
  const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.day ?? '');
  await expect.poll(focused).not.toBe(todayKey);
  expect((await focused()) > (todayKey ?? '')).toBe(true);
  await expect(page).toHaveURL(new RegExp(`day=${await focused()}`));
  await expectAccessible(page, 'the calendar, month');

  // On time: a run with trigger "schedule" appears on the schedule's page.
  await page.goto(`/schedules/${scheduleId}`);
  const runs = page.getByRole('table', { name: `Runs started by ${name}` });
  await expect(runs.getByRole('cell', { name: 'schedule', exact: true }).first()).toBeVisible({ timeout: 100_000 });
  await expect(page.getByRole('table', { name: `Fires of ${name}, newest first` })).toContainText('fired');
  await expectAccessible(page, 'the schedule page');
  await runs.scrollIntoViewIfNeeded();
  await shot(page, 'schedule-page');

  // Pause: the api agrees, the calendar shows it paused.
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Paused' })).toBeVisible();
  const paused = await operator.get<{ paused: boolean }>(`/api/v1/schedules/${scheduleId}`);
  expect(paused.paused).toBe(true);

  // Delete, with a confirmation.
  await page.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: `Delete ${name}?` });
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(/\/schedules$/);
  expect((await operator.call('GET', `/api/v1/schedules/${scheduleId}`)).status).toBe(404);
});

test('a viewer sees schedules and the scheduler but no control', async ({ page }) => {
  await signIn(page, 'viewer');
  await page.goto('/schedules');
  await expect(page.getByRole('heading', { name: 'Schedules', level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: 'New schedule' })).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Schedules' }).getByRole('link', { name: 'Scheduler' }).click();
  await expect(page.getByRole('heading', { name: 'Scheduler', level: 1 })).toBeVisible();
  await expect(page.getByRole('table', { name: /Scheduler replicas/ }).or(page.getByRole('alert'))).toBeVisible();
  await expect(page.getByRole('button', { name: /Pause every schedule|Resume every schedule/ })).toHaveCount(0);
  await expectAccessible(page, 'the scheduler');
  await page.getByRole('navigation', { name: 'Schedules' }).getByRole('link', { name: 'Maintenance windows' }).click();
  await expect(page.getByRole('heading', { name: 'Maintenance windows', level: 1 })).toBeVisible();
  await expect(page.getByRole('link', { name: 'New window' })).toHaveCount(0);
  await expectAccessible(page, 'the maintenance windows');
});
