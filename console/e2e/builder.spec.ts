// The job editor: a three-step job built in the visual builder with the
// keyboard-accessible Add buttons, saved, and seen in the YAML view; then a
// mistyped `with` key written in YAML is refused at save and shown on its
// node. CodeMirror and React Flow must run under the strict CSP (the
// fixture fails the test on any "Refused to …" console error).
import type { Locator, Page } from '@playwright/test';
import { parse } from 'yaml';
import { expect, expectAccessible, shot, signIn, test, unique } from './fixtures';

const COMMANDS = ['echo one', 'echo two', 'echo three'];

/** The editor's whole document, as a user gets it: select all and copy
 * (CodeMirror draws only the lines in view, so the page's text may be a part). */
async function editorText(page: Page, editor: Locator): Promise<string> {
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('ControlOrMeta+c');
  return page.evaluate(() => navigator.clipboard.readText());
}

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('a three-step job built visually is the same job in YAML, and a mistyped key shows on its node', async ({ page, api }) => {
  await signIn(page, 'operator');
  await page.goto('/jobs/new');
  await expect(page.getByRole('heading', { name: 'New job', level: 1 })).toBeVisible();
  const name = unique('builder');
  await page.getByLabel('Name', { exact: true }).fill(name);

  for (const command of COMMANDS) {
    await page.getByRole('button', { name: 'Add ssh.exec step' }).click();
    await page.getByLabel('command (required)').fill(command);
  }
  const nodes = page.locator('.react-flow__node');
  await expect(nodes).toHaveCount(3);
  // Steps run in order: the canvas connects each to the next.
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  await expect(nodes.nth(0)).toContainText('ssh_exec_1');
  await expect(nodes.nth(2)).toContainText('ssh.exec');
  await expectAccessible(page, 'the visual builder');
  await shot(page, 'job-builder');

  await page.getByRole('button', { name: 'Create job' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const id = /\/jobs\/([0-9a-f-]{36})$/.exec(page.url())?.[1] ?? '';
  // The API has the three steps, in order.
  const saved = await api.get<{ definition: { steps: { id: string; type: string; with: { command?: string } }[] } }>(`/api/v1/jobs/${id}`);
  expect(saved.definition.steps.map((s) => [s.id, s.type, s.with.command])).toEqual(COMMANDS.map((c, i) => [`ssh_exec_${i + 1}`, 'ssh.exec', c]));

  await page.goto(`/jobs/${id}/edit`);
  await expect(page.getByRole('heading', { name: `Edit ${name}`, level: 1 })).toBeVisible();
  // Loading is not a change.
  await expect(page.getByText('Unsaved changes')).toHaveCount(0);
  await page.getByRole('tab', { name: 'YAML / JSON' }).click();
  const code = page.getByRole('textbox', { name: 'Job definition (YAML)' });
  // Short, because the defaults (null, false, {}) are left out: all of it in view.
  for (const [i, command] of COMMANDS.entries()) {
    await expect(code).toContainText(`id: ssh_exec_${i + 1}`);
    await expect(code).toContainText(`command: ${command}`);
  }
  await expect(code).not.toContainText('null');
  await expectAccessible(page, 'the YAML view');
  await shot(page, 'job-yaml');
  // The whole document is the job as saved, and nothing else.
  const whole = await editorText(page, code);
  expect(parse(whole)).toEqual({ name, steps: COMMANDS.map((command, i) => ({ id: `ssh_exec_${i + 1}`, type: 'ssh.exec', with: { command } })) });
  await expect(page.getByText('Unsaved changes')).toHaveCount(0);

  // A mistyped key in the third step's settings.
  const text = [
    `name: ${name}`,
    'steps:',
    ...COMMANDS.flatMap((command, i) => [`  - id: ssh_exec_${i + 1}`, '    type: ssh.exec', '    with:', `      ${i === 2 ? 'comand' : 'command'}: ${command}`]),
    '',
  ].join('\n');
  // Pasted over the whole text, as a user brings a definition in (typing it
  // would auto-indent; Chromium's own multi-line text insertion writes
  // style attributes, which the CSP refuses).
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await code.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('ControlOrMeta+v');
  await expect(code).toContainText('comand: echo three');
  await expect(page.getByText('Unsaved changes')).toBeVisible();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'refused' }).first()).toBeVisible();
  // The YAML view marks the key the API named.
  await expect(page.locator('.cm-lintRange-error').first()).toBeVisible();
  await expect(page.locator('.cm-lint-marker-error').first()).toBeVisible();
  await expectAccessible(page, 'the YAML view with a refused key');
  await shot(page, 'job-yaml-refused');

  await page.getByRole('tab', { name: 'Builder' }).click();
  await expect(nodes.nth(2)).toContainText(/\d+ errors?/);
  await expect(nodes.nth(0)).not.toContainText('error');
  await page.getByRole('button', { name: /^3\. ssh_exec_3/ }).click();
  await expect(page.getByLabel('comand')).toBeVisible();
  await expect(page.locator('.builder-side .field-message').first()).toBeVisible();
  await expectAccessible(page, 'the builder with a refused step');
});
