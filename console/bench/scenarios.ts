// The two scenarios, each in a browser of its own (one page, so its
// renderer is the page's): "live", the run page opened while the run prints
// and followed in tail mode to the last line; "replay", a finished run's
// page opened afresh and loaded to the end. After either, the same
// measurements: memory, a jump to the top and back to the end, a search.
import { chromium, type Browser, type Page } from '@playwright/test';
import type { Account, Stack } from '../e2e/stack';
import { installProbe, memory, readProbe, responsiveness, type Memory, type Responsiveness, type Trace } from './probe';
import { BenchError, ended, getRun, runSucceeded, startRun, type Admin } from './setup';
import { TERM, type Workload } from './workload';

/** How the scenarios run. */
export interface Options {
  stack: Stack;
  admin: Admin;
  work: Workload;
  /** The whole live run (printing and showing) may take this long. */
  timeoutMs: number;
  /** Progress lines for a person (stderr). */
  say: (line: string) => void;
}

/** The jumps and the search after a scenario loaded. */
export interface Interaction {
  /** Setting the view's scroll position to the top until line 1 shows. */
  scroll_top_ms: number;
  /** Then to the bottom until the last line shows. */
  scroll_end_ms: number;
  /** Both jumps together. */
  scroll: Responsiveness;
  /** Typing the term in the find box until its first match is found ("1 of N" shows). */
  search_first_match_ms: number;
  /** Then Enter (the next match) until the current match is in view. */
  search_next_match_ms: number;
  /** The match count shown. */
  search_matches: string;
  search: Responsiveness;
}

/** The page's reads of `GET /api/v1/runs/{id}/steps` (each carries every step's kept output). */
export interface StepReads {
  count: number;
  /** Their bodies, in bytes. */
  bytes: number;
  largest_bytes: number;
}

/** Counts the page's reads of the run's steps from now on. */
function countStepReads(page: Page): () => Promise<StepReads> {
  const sizes: Promise<number>[] = [];
  page.on('requestfinished', (req) => {
    if (/\/api\/v1\/runs\/[^/]+\/steps$/.test(new URL(req.url()).pathname)) {
      sizes.push(req.sizes().then((s) => s.responseBodySize, () => 0));
    }
  });
  return async () => {
    const all = await Promise.all(sizes);
    return { count: all.length, bytes: all.reduce((a, b) => a + b, 0), largest_bytes: Math.max(0, ...all) };
  };
}

/** What one scenario measured. */
export interface Figures {
  /** Lines in the page's status once complete. */
  lines_shown: number;
  /** Signed in, on the dashboard, before the run page opens: what the lines add to. */
  memory_signed_in: Memory;
  /** Once every line is in. */
  memory: Memory;
  /** Until every line was in. */
  step_reads: StepReads;
  after_load: Interaction;
}

const PAGE_TIMEOUT = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sec = (ms: number) => Number((ms / 1000).toFixed(2));
const ms = (n: number) => Number(n.toFixed(1));

/** Debian's chromium, headless, as the journeys use it (CHROMIUM overrides the path). */
export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true });
}

/** A page of a new context, the probe installed, signed in through the console's sign-in page. */
async function signedIn(browser: Browser, o: Options, who: Account): Promise<Page> {
  const context = await browser.newContext({ baseURL: o.stack.base_url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT);
  await installProbe(page, { last: o.work.prefix(o.work.total), total: o.work.total });
  await page.goto('/login');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  try {
    await page.getByRole('button', { name: 'Account' }).waitFor({ timeout: 20_000 });
  } catch {
    const alert = await page.getByRole('alert').allTextContents().catch(() => []);
    throw new BenchError(`signing in as ${who.username} through the console failed${alert.length ? `: ${alert.join(' ')}` : ''}`);
  }
  return page;
}

/** No new line for this long while the run goes on is a stall. */
const STALL_MS = 90_000;

/** Waits until the probe saw `field`, checking the run meanwhile; the trace. */
async function until(page: Page, field: 'lastLineAt' | 'completeAt', o: Options, runId: string): Promise<Trace & { origin: number }> {
  const deadline = Date.now() + o.timeoutMs;
  let lastSay = 0;
  let lines = -1;
  let movedAt = Date.now();
  for (;;) {
    const trace = await readProbe(page);
    if (trace[field] && trace.completeAt) return trace;
    if (trace.status.startsWith('Complete') && shownLines(trace.status) !== o.work.total) {
      throw new BenchError(`the page finished with "${trace.status}", not ${o.work.total} lines: lines were lost on the way`);
    }
    const run = await getRun(await o.admin.api(), runId);
    if (ended(run.status) && run.status !== 'succeeded') throw new BenchError(`run ${runId} ended ${run.status}: ${run.reason ?? 'no reason given'}`);
    if (Date.now() > deadline) {
      throw new BenchError(`timed out after ${o.timeoutMs / 1000} s waiting for the page to show line ${o.work.total} (run ${run.status}; page says "${trace.status}")`);
    }
    const now = shownLines(trace.status);
    if (now !== lines) {
      lines = now;
      movedAt = Date.now();
    } else if (!ended(run.status) && Date.now() - movedAt > STALL_MS) {
      throw new BenchError(
        `no new line for ${STALL_MS / 1000} s while run ${runId} is ${run.status} (page says "${trace.status}"). ` +
          'A step that prints more than 5,000 lines stalls the worker (async-nats allows 5,000 unacknowledged JetStream publishes ' +
          'and the output sink awaits its acks only when the step ends): keep --per-step below that',
      );
    }
    if (Date.now() - lastSay > 10_000) {
      o.say(`  run ${run.status}; page: ${trace.status || 'no output yet'}`);
      lastSay = Date.now();
    }
    await sleep(1000);
  }
}

/** The status's line count. */
function shownLines(status: string): number {
  return Number((/· ([\d,.\s]+) line/.exec(status)?.[1] ?? '').replace(/\D/g, ''));
}

/** Scrolls the output view to the top, then to the end, each until its line shows; page times. */
async function jumps(page: Page, first: string, last: string): Promise<[number, number, number]> {
  return page.evaluate(async ([first, last]) => {
    const view = document.querySelector<HTMLElement>('.out-view');
    if (!view) throw new Error('no output view');
    const shown = (prefix: string) =>
      [...view.querySelectorAll('.out-line[data-line]')].some((row) => {
        if (!(row.querySelector('.out-text')?.textContent ?? '').startsWith(prefix)) return false;
        const r = row.getBoundingClientRect();
        const v = view.getBoundingClientRect();
        return r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
      });
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    const jump = async (top: number, prefix: string) => {
      view.scrollTop = top;
      for (let i = 0; i < 600 && !shown(prefix); i++) await frame();
      if (!shown(prefix)) throw new Error(`line "${prefix}" did not show after the jump`);
      return performance.now();
    };
    await frame();
    const t0 = performance.now();
    const t1 = await jump(0, first);
    const t2 = await jump(view.scrollHeight, last);
    return [t0, t1, t2] as [number, number, number];
  }, [first, last] as const);
}

/** Page time (performance.now) of epoch `at`. */
const pageTime = (trace: { origin: number }, at: number) => at - trace.origin;

/** Memory, the two jumps and the search on a loaded page. */
async function afterLoad(page: Page, browser: Browser, o: Options): Promise<{ memory: Memory; after_load: Interaction }> {
  const mem = await memory(page, browser);
  const [t0, t1, t2] = await jumps(page, o.work.prefix(1), o.work.prefix(o.work.total));
  const find = page.getByLabel('Find in output');
  const matches = page.locator('#out-matches');
  const s0 = Date.now();
  await find.fill(TERM);
  const counted = await page.waitForFunction(() => (/^1 of /.test(document.getElementById('out-matches')?.textContent ?? '') ? Date.now() : 0), null, {
    polling: 'raf',
  });
  const s1 = (await counted.jsonValue()) as number;
  const shown = await matches.textContent();
  await find.press('Enter');
  const next = await page.waitForFunction(
    () => {
      const view = document.querySelector('.out-view');
      const hit = view?.querySelector('mark.out-hit-current');
      if (!view || !hit) return 0;
      const r = hit.getBoundingClientRect();
      const v = view.getBoundingClientRect();
      return r.top >= v.top && r.bottom <= v.bottom ? Date.now() : 0;
    },
    null,
    { polling: 'raf' },
  );
  const s2 = (await next.jsonValue()) as number;
  await sleep(300);
  const trace = await readProbe(page);
  if (Number((shown ?? '').replace(/^1 of /, '').replace(/\D/g, '')) !== o.work.matches()) {
    o.say(`  warning: the search shows "${shown}", the output holds ${o.work.matches()} matches`);
  }
  return {
    memory: mem,
    after_load: {
      scroll_top_ms: ms(t1 - t0),
      scroll_end_ms: ms(t2 - t1),
      scroll: responsiveness(trace, t0, t2),
      search_first_match_ms: ms(s1 - s0),
      search_next_match_ms: ms(s2 - s1),
      search_matches: shown ?? '',
      search: responsiveness(trace, pageTime(trace, s0), pageTime(trace, s2)),
    },
  };
}

/** What "live" measured. */
export interface LiveFigures extends Figures {
  run_id: string;
  /** From starting the run to the last line in view. */
  last_line_s: number;
  /** From starting the run to its first line in view. */
  first_line_s: number;
  /** The run's own time, started to finished (the worker printing). */
  run_s: number | null;
  /** From the run's end (as the API recorded it) to the last line in view. */
  behind_run_end_s: number | null;
  /** While lines streamed: from the first line shown to the last. */
  streaming: Responsiveness;
}

/** Starts a run, follows it on its page in tail mode until the last line shows, then measures. */
export async function live(o: Options, job: string): Promise<LiveFigures> {
  const browser = await launch();
  try {
    const page = await signedIn(browser, o, o.stack.admin);
    const idle = await memory(page, browser);
    const stepReads = countStepReads(page);
    const t0 = Date.now();
    const runId = await startRun(await o.admin.api(), job);
    o.say(`live: run ${runId} started; opening its page`);
    await page.goto(`/runs/${runId}`);
    await page.getByRole('region', { name: 'Output lines' }).waitFor();
    const follow = page.getByRole('button', { name: 'Follow output' });
    if ((await follow.getAttribute('aria-pressed')) !== 'true') await follow.click();
    const trace = await until(page, 'lastLineAt', o, runId);
    const run = await runSucceeded(o.admin, runId, 60_000);
    const epoch = (t: number) => trace.origin + t;
    const started = run.started_at ? Date.parse(run.started_at) : NaN;
    const finished = run.finished_at ? Date.parse(run.finished_at) : NaN;
    o.say(`live: line ${o.work.total} shown ${sec(epoch(trace.lastLineAt) - t0)} s after the start; measuring`);
    const reads = await stepReads();
    const rest = await afterLoad(page, browser, o);
    return {
      run_id: runId,
      lines_shown: shownLines(trace.status),
      last_line_s: sec(epoch(trace.lastLineAt) - t0),
      first_line_s: sec(epoch(trace.firstLineAt) - t0),
      run_s: Number.isNaN(started + finished) ? null : sec(finished - started),
      behind_run_end_s: Number.isNaN(finished) ? null : sec(epoch(trace.lastLineAt) - finished),
      streaming: responsiveness(trace, trace.firstLineAt, trace.lastLineAt),
      step_reads: reads,
      memory_signed_in: idle,
      ...rest,
    };
  } finally {
    await browser.close();
  }
}

/** What "replay" measured. */
export interface ReplayFigures extends Figures {
  /** From opening the page to "Complete · N lines". */
  complete_s: number;
  /** From opening the page to its first line in view. */
  first_line_s: number;
  /** While lines loaded: from the first line shown to complete. */
  loading: Responsiveness;
}

/** Opens a finished run's page in a fresh browser and waits until all its lines are loaded, then measures. */
export async function replay(o: Options, runId: string): Promise<ReplayFigures> {
  const browser = await launch();
  try {
    const page = await signedIn(browser, o, o.stack.admin);
    const idle = await memory(page, browser);
    const stepReads = countStepReads(page);
    const t0 = Date.now();
    await page.goto(`/runs/${runId}`);
    const trace = await until(page, 'completeAt', o, runId);
    const epoch = (t: number) => trace.origin + t;
    o.say(`replay: ${o.work.total} lines loaded ${sec(epoch(trace.completeAt) - t0)} s after opening the page; measuring`);
    const reads = await stepReads();
    const rest = await afterLoad(page, browser, o);
    return {
      lines_shown: shownLines(trace.status),
      complete_s: sec(epoch(trace.completeAt) - t0),
      first_line_s: sec(epoch(trace.firstLineAt) - t0),
      loading: responsiveness(trace, trace.firstLineAt, trace.completeAt),
      step_reads: reads,
      memory_signed_in: idle,
      ...rest,
    };
  } finally {
    await browser.close();
  }
}
