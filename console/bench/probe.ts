// What the bench reads in the browser. In the page (an init script, so it
// runs before the console's own code): a requestAnimationFrame loop keeping
// every frame's time, a 'longtask' PerformanceObserver, and watchers noting
// when the first line, the last line (in view) and the "Complete" status
// first showed. Over CDP: the JS heap (Performance.getMetrics, before and
// after HeapProfiler.collectGarbage) and DOM counters; the renderer's memory
// from the pids SystemInfo.getProcessInfo names and their /proc files.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from '@playwright/test';

/** What the page watches for. */
export interface Want {
  /** The last line starts with this (colours stripped). */
  last: string;
  /** Lines in the "Complete · N lines" status. */
  total: number;
}

/** The page's trace; times are `performance.now()` milliseconds. */
export interface Trace {
  /** Each animation frame's start. */
  frames: number[];
  /** Long tasks: start and duration. */
  longTasks: [number, number][];
  firstLineAt: number;
  lastLineAt: number;
  completeAt: number;
  /** The status text as last seen. */
  status: string;
}

interface BenchWindow {
  __bench?: Trace & { want: Want };
}

/** The init script (serialised into the page: self-contained). */
function probe(want: Want): void {
  const w = window as unknown as BenchWindow;
  if (w.__bench) return;
  const b: Trace & { want: Want } = { frames: [], longTasks: [], firstLineAt: 0, lastLineAt: 0, completeAt: 0, status: '', want };
  w.__bench = b;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) b.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // No long-task timing in this browser: the frame gaps still tell.
  }
  const inView = (el: Element, view: Element) => {
    const r = el.getBoundingClientRect();
    const v = view.getBoundingClientRect();
    return r.height > 0 && r.top >= v.top - 1 && r.bottom <= v.bottom + 1;
  };
  const tick = () => {
    const now = performance.now();
    b.frames.push(now);
    if (!b.firstLineAt && document.querySelector('.out-line[data-line]')) b.firstLineAt = now;
    if (!b.lastLineAt) {
      // In tail mode the last row rendered is the last line: read only it.
      const view = document.querySelector('.out-view');
      const row = view?.querySelector('.out-spacer')?.lastElementChild;
      if (view && row && (row.querySelector('.out-text')?.textContent ?? '').startsWith(b.want.last) && inView(row, view)) b.lastLineAt = now;
    }
    if (!b.completeAt) {
      b.status = document.querySelector('.out-toolbar [role="status"]')?.textContent ?? '';
      const m = /^Complete · ([\d,.\s]+) line/.exec(b.status);
      if (m && Number((m[1] ?? '').replace(/\D/g, '')) === b.want.total) b.completeAt = now;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

/** Installs the probe in every page of the page's context from the next navigation on. */
export async function installProbe(page: Page, want: Want): Promise<void> {
  await page.context().addInitScript(probe, want);
}

/** The page's trace so far, and its time origin (epoch ms). */
export async function readProbe(page: Page): Promise<Trace & { origin: number }> {
  return page.evaluate(() => {
    const b = (window as unknown as BenchWindow).__bench;
    if (!b) throw new Error('the bench probe is not in this page');
    const { frames, longTasks, firstLineAt, lastLineAt, completeAt, status } = b;
    return { frames, longTasks, firstLineAt, lastLineAt, completeAt, status, origin: performance.timeOrigin };
  });
}

/** The main thread between `from` and `to` (page milliseconds). */
export interface Responsiveness {
  longest_task_ms: number;
  long_tasks: number;
  long_task_total_ms: number;
  longest_frame_gap_ms: number;
  frame_gaps_over_100ms: number;
  frames_per_s: number;
}

const round = (n: number, digits = 1) => Number(n.toFixed(digits));

/** Long tasks and frame gaps of `rec` within [from, to]. */
export function responsiveness(rec: Trace, from: number, to: number): Responsiveness {
  const tasks = rec.longTasks.filter(([start, d]) => start + d > from && start < to);
  let gap = 0;
  let over = 0;
  let frames = 0;
  for (let k = 1; k < rec.frames.length; k++) {
    const t = rec.frames[k] ?? 0;
    if (t <= from || t > to) continue;
    frames++;
    const g = t - (rec.frames[k - 1] ?? t);
    gap = Math.max(gap, g);
    if (g > 100) over++;
  }
  return {
    longest_task_ms: round(Math.max(0, ...tasks.map(([, d]) => d))),
    long_tasks: tasks.length,
    long_task_total_ms: round(tasks.reduce((s, [, d]) => s + d, 0)),
    longest_frame_gap_ms: round(gap),
    frame_gaps_over_100ms: over,
    frames_per_s: to > from ? round((frames * 1000) / (to - from)) : 0,
  };
}

/** Memory of the page and its renderer, in MiB. */
export interface Memory {
  js_heap_used_mib: number;
  js_heap_total_mib: number;
  js_heap_used_after_gc_mib: number;
  js_heap_total_after_gc_mib: number;
  dom_nodes: number;
  /** Renderer processes of the browser (one page: the page's, perhaps a spare). */
  renderer_processes: number;
  renderer_rss_mib: number | null;
  /** The other renderers' resident memory (to tell them from the page's). */
  other_renderers_rss_mib: (number | null)[];
  renderer_pss_mib: number | null;
  renderer_rss_after_gc_mib: number | null;
  /** Five seconds after the GC, the page left alone (it may have fetched more meanwhile). */
  renderer_rss_settled_mib: number | null;
  /** Proportional set size of every process of the browser together, after the GC. */
  chromium_pss_total_mib: number | null;
}

const mib = (bytes: number) => round(bytes / 2 ** 20);

/** A `/proc/<pid>/…` figure in kB (`VmRSS` of status, `Pss` of smaps_rollup), or null when unreadable. */
function procKb(pid: number, file: 'status' | 'smaps_rollup', field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface Processes {
  /** The page's renderer: the renderer process with the most resident memory. */
  renderer: number | null;
  /** The other renderers. */
  others: number[];
  all: number[];
}

/** The browser's processes (CDP SystemInfo.getProcessInfo). */
async function processes(browser: Browser): Promise<Processes> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
    const renderers = processInfo.filter((p) => p.type === 'renderer').map((p) => p.id);
    // One page per browser: the other renderers (spares, helpers) hold no page.
    const [renderer = null, ...others] = renderers.sort((a, b) => (procKb(b, 'status', 'VmRSS') ?? 0) - (procKb(a, 'status', 'VmRSS') ?? 0));
    return { renderer, others, all: processInfo.map((p) => p.id) };
  } finally {
    await cdp.detach();
  }
}

/** The page's memory now, after a forced garbage collection, and five seconds later. */
export async function memory(page: Page, browser: Browser): Promise<Memory> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Performance.enable');
    const metric = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
    };
    const procs = await processes(browser);
    const before = await metric();
    const rss = procs.renderer === null ? null : procKb(procs.renderer, 'status', 'VmRSS');
    const pss = procs.renderer === null ? null : procKb(procs.renderer, 'smaps_rollup', 'Pss');
    await cdp.send('HeapProfiler.collectGarbage');
    const after = await metric();
    const rssAfter = procs.renderer === null ? null : procKb(procs.renderer, 'status', 'VmRSS');
    const psses = procs.all.map((p) => procKb(p, 'smaps_rollup', 'Pss'));
    await new Promise((r) => setTimeout(r, 5000));
    const rssSettled = procs.renderer === null ? null : procKb(procs.renderer, 'status', 'VmRSS');
    return {
      js_heap_used_mib: mib(before('JSHeapUsedSize')),
      js_heap_total_mib: mib(before('JSHeapTotalSize')),
      js_heap_used_after_gc_mib: mib(after('JSHeapUsedSize')),
      js_heap_total_after_gc_mib: mib(after('JSHeapTotalSize')),
      dom_nodes: after('Nodes'),
      renderer_processes: procs.others.length + (procs.renderer === null ? 0 : 1),
      renderer_rss_mib: rss === null ? null : round(rss / 1024),
      other_renderers_rss_mib: procs.others.map((p) => {
        const kb = procKb(p, 'status', 'VmRSS');
        return kb === null ? null : round(kb / 1024);
      }),
      renderer_pss_mib: pss === null ? null : round(pss / 1024),
      renderer_rss_after_gc_mib: rssAfter === null ? null : round(rssAfter / 1024),
      renderer_rss_settled_mib: rssSettled === null ? null : round(rssSettled / 1024),
      chromium_pss_total_mib: psses.some((p) => p === null) ? null : round(psses.reduce<number>((s, p) => s + (p ?? 0), 0) / 1024),
    };
  } finally {
    await cdp.detach();
  }
}
