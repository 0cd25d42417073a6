// The browser journeys (e2e/*.spec.ts): Debian's Chromium (never a
// Playwright browser download) against the installation the Rust test
// tests/e2e/console_browser.rs starts and describes in OPSC_E2E_FIXTURE.
// Run them with: ./deploy/test.sh -E 'test(/console_browser/)'
// (OPSC_CONSOLE_SPECS=shell,jobs picks spec files).
import { defineConfig } from '@playwright/test';
import { maybeStack } from './e2e/stack';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  // Spec files run in parallel; the tests of one file in order.
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  // Limits that only end a journey that is stuck: on 2 cores the browser, the api,
  // its worker, NATS and PostgreSQL share the machine, and a loaded CI host ran the
  // journeys three times slower than usual. Speed is the bench's to measure.
  timeout: 180_000,
  expect: { timeout: 20_000 },
  reporter: 'list',
  use: {
    baseURL: maybeStack()?.base_url,
    headless: true,
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    trace: 'retain-on-first-failure',
    screenshot: 'only-on-failure',
    actionTimeout: 30_000,
    navigationTimeout: 45_000,
  },
});
