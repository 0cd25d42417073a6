// The journeys' `test`: Playwright's, with the installation (`stack`), an
// admin API client (`api`), and a guard that fails a test on any
// Content-Security-Policy refusal (the console must work under the api's
// strict CSP). Helpers: sign in through the UI, axe checks, screenshots,
// TOTP codes, unique names.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { Api } from './api';
import { readStack, type Account, type Stack } from './stack';
import { totp } from './totp';

export { expect } from '@playwright/test';
export { Api } from './api';
export type { Account, InboxMessage, Stack } from './stack';
export { totp, totpStep, wrongTotp } from './totp';

/** Who signs in: one of the fixture's accounts, or any other account. */
export type Who = 'admin' | 'operator' | 'viewer' | Account;

interface Fixtures {
  /** The installation. */
  stack: Stack;
  /** The API as the bootstrap admin. */
  api: Api;
}

const refusal = /Content Security Policy|Refused to/i;

/** Collects CSP refusals of every page of `context` into `into`. */
export function guardCsp(context: BrowserContext, into: string[]): void {
  context.on('console', (msg) => {
    if (msg.type() === 'error' && refusal.test(msg.text())) into.push(msg.text());
  });
  context.on('weberror', (e) => {
    if (refusal.test(String(e.error()))) into.push(String(e.error()));
  });
}

// The second argument is Playwright's `use`, named `provide` so that the
// React hooks lint does not take it for a hook.
export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern
  stack: async ({}, provide) => {
    await provide(theStack());
  },
  api: async ({ stack }, provide) => {
    await provide(await Api.login(stack.base_url, stack.admin));
  },
  context: async ({ context }, provide) => {
    const refused: string[] = [];
    guardCsp(context, refused);
    await provide(context);
    expect(refused, 'the console broke the Content-Security-Policy').toEqual([]);
  },
});

let cached: Stack | undefined;

/** The installation (read once per worker). */
export function theStack(): Stack {
  cached ??= readStack();
  return cached;
}

/** The account of `who`. */
export function accountOf(who: Who): Account {
  return typeof who === 'string' ? theStack()[who] : who;
}

/** A name no other test uses: `prefix-<time>-<random>` (lower case, a valid user or job name). */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Options of {@link signIn}. */
export interface SignInOptions {
  /** The account's TOTP secret (base32): answers the code prompt. */
  totpSecret?: string;
}

/** Signs in through the login page and waits for the signed-in shell. */
export async function signIn(page: Page, who: Who, opts: SignInOptions = {}): Promise<void> {
  const account = accountOf(who);
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in to OpsConductor' })).toBeVisible();
  await page.getByLabel('Username').fill(account.username);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (opts.totpSecret) {
    await page.getByLabel('Authentication code').fill(totp(opts.totpSecret));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  // The account menu is on every signed-in page at every width (the main
  // navigation folds behind a menu button on a phone).
  await expect(page.getByRole('button', { name: 'Account' })).toBeVisible();
  await expect(page.getByRole('main')).toBeVisible();
}

/** Fails on any serious or critical axe-core violation of the page as it is,
 * listing each. Frames sandboxed without scripts (a notification's HTML
 * body) are left out: axe runs inside each frame, and waits forever for one
 * where no script may run. */
export async function expectAccessible(page: Page, what = page.url()): Promise<void> {
  const results = await new AxeBuilder({ page }).exclude('iframe[sandbox=""]').analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad
    .map((v) => {
      const nodes = v.nodes
        .slice(0, 5)
        .map((n) => `    at ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
        .join('\n');
      return `  ${v.id} (${v.impact}): ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
  expect(bad.length, `accessibility violations on ${what}:\n${report}`).toBe(0);
}

const SHOTS = fileURLToPath(new URL('../../docs/console/', import.meta.url));

/** Saves the visible viewport (not the full page, to keep files small) as docs/console/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: false, animations: 'disabled', caret: 'hide' });
}
