// The notifications room: an admin creates an email channel pointing at the
// installation's SMTP peer and tests it (the message arrives), writes a rule
// for a job's failures with a preview, runs the job into a failure, and
// finds the notification in the history (and the email in the inbox); a
// viewer keeps their own quiet hours.
import { Api, expect, expectAccessible, shot, signIn, test, unique, type InboxMessage, type Stack } from './fixtures';

interface Job {
  id: string;
  name: string;
}

async function inbox(stack: Stack): Promise<InboxMessage[]> {
  if (!stack.smtp_inbox_url) throw new Error('the fixture names no smtp_inbox_url');
  const res = await fetch(stack.smtp_inbox_url);
  return (await res.json()) as InboxMessage[];
}

const to = (address: string) => (m: InboxMessage) => m.rcpt_to.some((r) => r.includes(address));

test('an email channel tested, a rule for failures, the notification in history and the inbox', async ({ page, api, stack }) => {
  test.setTimeout(240_000);
  if (!stack.smtp) throw new Error('the fixture names no SMTP peer');
  const channelName = unique('mail');
  const ruleName = unique('failures');
  const testAddress = `${unique('test')}@example.com`;
  const alertAddress = `${unique('alert')}@example.com`;
  const job = await api.post<Job>('/api/v1/jobs', {
    name: unique('fails'),
    pool: stack.pool,
    tags: ['console-e2e', 'notifications-room'],
    steps: [{ id: 'boom', type: 'local.exec', with: { command: 'echo going down; exit 3' } }],
  });

  try {
    await signIn(page, 'admin');

    // A channel: type-specific form, secrets write-only.
    await page.goto('/notifications/channels');
    await expect(page.getByRole('heading', { name: 'Channels', level: 1 })).toBeVisible();
    await page.getByRole('link', { name: 'New channel' }).click();
    await page.getByLabel('Name', { exact: true }).fill(channelName);
    await expect(page.getByLabel('Kind')).toHaveValue('email');
    await page.getByLabel('SMTP host').fill(stack.smtp.host);
    await page.getByLabel('Port', { exact: true }).fill(String(stack.smtp.port));
    await page.getByLabel('Transport security').selectOption('none');
    await page.getByLabel('From', { exact: true }).fill('OpsConductor <opsconductor@example.com>');
    await page.getByLabel('Default recipients').fill(testAddress);
    await expect(page.getByLabel('SMTP password')).toHaveAttribute('type', 'password');
    await expectAccessible(page, 'the channel form');
    await page.getByRole('button', { name: 'Create channel' }).dblclick();
    await expect(page.getByRole('heading', { name: `Edit ${channelName}` })).toBeVisible();
    const channels = await api.get<{ id: string; name: string }[]>('/api/v1/notifications/channels');
    const channel = channels.find((c) => c.name === channelName);
    expect(channel).toBeDefined();
    expect(channels.filter((c) => c.name === channelName)).toHaveLength(1);

    // Test it: the notifier answers, the message arrives.
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: `Test ${channelName}` });
    await dialog.getByRole('button', { name: 'Send test' }).click();
    const outcome = dialog.getByRole('status', { name: 'Test outcome' });
    await expect(outcome).toContainText('delivered', { timeout: 40_000 });
    await expect.poll(async () => (await inbox(stack)).filter(to(testAddress)).length, { timeout: 30_000 }).toBeGreaterThan(0);
    await dialog.getByRole('button', { name: 'Close' }).click();

    await page.goto('/notifications/channels');
    await expect(page.getByRole('row', { name: new RegExp(channelName) })).toContainText(`${stack.smtp.host}:${stack.smtp.port}`);
    await expectAccessible(page, 'the channels list');
    await shot(page, 'notifications-channels');

    // A rule for the job's failures, previewed before saving.
    await page.getByRole('navigation', { name: 'Notifications' }).getByRole('link', { name: 'Rules' }).click();
    await page.getByRole('link', { name: 'New rule' }).click();
    await page.getByLabel('Name', { exact: true }).fill(ruleName);
    await expect(page.getByRole('checkbox', { name: 'run failed', exact: true })).toBeChecked();
    await page.getByRole('group', { name: 'Jobs (none: any)' }).getByRole('checkbox', { name: job.name }).check();
    await page.getByLabel('Channel', { exact: true }).selectOption({ label: `${channelName} (email)` });
    await page.getByLabel('Addresses').fill(alertAddress);
    // Conditions the form now edits: how long the run took (it takes seconds).
    await page.getByLabel('At most (seconds)').fill('3600');
    await page.getByLabel('At most (seconds)').scrollIntoViewIfNeeded();
    await shot(page, 'notification-rule-form');
    await page.getByRole('button', { name: 'Preview matches' }).click();
    await expect(page.getByRole('region', { name: 'Notices the rule would have matched' })).toContainText('It would have matched none');
    await expectAccessible(page, 'the rule form');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect(page.getByRole('heading', { name: ruleName, level: 1 })).toBeVisible();
    await expect(page.getByText(alertAddress)).toBeVisible();
    await expect(page.getByText('at most 3,600 s')).toBeVisible();
    await expectAccessible(page, 'the rule page');

    // The job fails; the rule notifies.
    const run = await api.post<{ run_id: string }>(`/api/v1/jobs/${job.id}/run`, { parameters: {} });
    await expect.poll(async () => (await api.get<{ status: string }>(`/api/v1/runs/${run.run_id}`)).status, { timeout: 60_000 }).toBe('failed');

    await page.goto(`/notifications?job_id=${job.id}`);
    await expect(page.getByRole('heading', { name: 'Notifications', level: 1 })).toBeVisible();
    await expect(page.getByLabel('Job', { exact: true })).toHaveValue(job.id);
    const row = page.getByRole('row', { name: new RegExp(alertAddress) });
    await expect(async () => {
      await page.reload();
      await expect(row).toContainText('delivered', { timeout: 3_000 });
    }).toPass({ timeout: 90_000 });
    await expect(row).toContainText('run failed');
    await expectAccessible(page, 'the history');
    await shot(page, 'notifications-history');
    await expect.poll(async () => (await inbox(stack)).filter(to(alertAddress)).length, { timeout: 30_000 }).toBeGreaterThan(0);

    // The notification's page: the message, its attempts, acknowledge.
    await row.getByRole('link').first().click();
    await expect(page.getByRole('table', { name: 'Attempts, oldest first' })).toContainText('delivered');
    await expect(page.getByLabel('Message text')).toContainText(job.name);
    // The email's HTML body, rendered in a sandboxed frame.
    await page.getByText('HTML body, rendered').click();
    await expect(page.frameLocator('iframe[title="HTML body as sent"]').locator('body')).toContainText(job.name);
    await expectAccessible(page, 'a notification');
    await shot(page, 'notification-message');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Acknowledged' })).toBeVisible();
  } finally {
    // Leave the installation as it was for the other journeys.
    const rules = await api.get<{ id: string; name: string }[]>('/api/v1/notifications/rules');
    for (const r of rules.filter((x) => x.name === ruleName)) await api.delete(`/api/v1/notifications/rules/${r.id}`);
    const left = await api.get<{ id: string; name: string }[]>('/api/v1/notifications/channels');
    for (const c of left.filter((x) => x.name === channelName)) await api.delete(`/api/v1/notifications/channels/${c.id}`);
  }
});

test('a viewer keeps their own quiet hours, and sees no channel, rule or dead letter', async ({ page, stack }) => {
  const viewer = await Api.login(stack.base_url, stack.viewer);
  await signIn(page, 'viewer');
  await page.goto('/notifications');
  const nav = page.getByRole('navigation', { name: 'Notifications' });
  await expect(nav.getByRole('link', { name: 'History' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Channels' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Dead letters' })).toHaveCount(0);
  await expectAccessible(page, 'the history as a viewer');

  await nav.getByRole('link', { name: 'My preferences' }).click();
  await expect(page.getByRole('heading', { name: 'My preferences', level: 1 })).toBeVisible();
  const own = page.getByRole('checkbox', { name: 'My own quiet hours' });
  if (await own.isChecked()) await own.uncheck();
  await own.check();
  // Another time than any earlier run left, so there is something to save.
  const minute = String(10 + Math.floor(Math.random() * 50));
  await page.getByLabel('From', { exact: true }).fill(`21:${minute}`);
  await page.getByLabel('To', { exact: true }).fill('06:45');
  const sat = page.getByRole('checkbox', { name: 'sat' });
  if (!(await sat.isChecked())) await sat.check();
  await expectAccessible(page, 'my preferences');
  await page.getByRole('button', { name: 'Save preferences' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
  const prefs = await viewer.get<{ quiet_hours: { from: string; to: string; days: string[] } | null }>('/api/v1/notifications/preferences/me');
  expect(prefs.quiet_hours).toMatchObject({ from: `21:${minute}`, to: '06:45' });
  expect(prefs.quiet_hours?.days).toContain('sat');
  await page.reload();
  await expect(page.getByLabel('From', { exact: true })).toHaveValue(`21:${minute}`);
});
