// The run output benchmark (issue 16: "300,000 lines without freezing or
// growing past a few hundred MB of browser memory"): against the
// installation the fixture describes (OPSC_E2E_FIXTURE, as for the browser
// journeys; deploy/bench-console.sh starts one), a job prints the lines on
// the test sshd, and Debian's chromium shows them, live in tail mode and
// replayed. Prints one JSON object on stdout; progress goes to stderr.
//
//   npm run bench:output -- [--lines 300000] [--per-step 4000] [--rate 2000] [--timeout 1800]
//
// --per-step: lines per ssh.exec step (a step may print 1 MiB, and a step of
// more than 5,000 lines stalls today's worker); --rate: lines a second the
// job prints at most, 0 for no limit (the journeys' installation keeps only
// 8 MiB of output on its bus). Both explained in workload.ts.
//
// Figures, never pass/fail: the project measures speed and memory with
// commands that print JSON, not timed assertions in tests.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { readStack } from '../e2e/stack';
import { launch, live, replay, type Options } from './scenarios';
import { Admin, BenchError, outputJob, recorded, sshTarget } from './setup';
import { Workload } from './workload';

const USAGE = 'usage: npm run bench:output -- [--lines N] [--per-step N] [--rate LINES_PER_S] [--timeout SECONDS]';

interface Args {
  lines: number;
  perStep: number;
  rate: number;
  timeoutS: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { lines: 300_000, perStep: 4_000, rate: 2_000, timeoutS: 1800 };
  const names: Record<string, keyof Args> = { '--lines': 'lines', '--per-step': 'perStep', '--rate': 'rate', '--timeout': 'timeoutS' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    if (flag === '--help' || flag === '-h') {
      process.stderr.write(`${USAGE}\n`);
      process.exit(0);
    }
    const [name, inline] = flag.split('=', 2);
    const key = names[name ?? ''];
    if (!key) throw new BenchError(`unknown argument ${flag}\n${USAGE}`);
    const value = Number(inline ?? argv[++i]);
    if (!Number.isInteger(value) || value < (key === 'rate' ? 0 : 1)) throw new BenchError(`${name} takes a ${key === 'rate' ? 'whole' : 'positive whole'} number\n${USAGE}`);
    args[key] = value;
  }
  return args;
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const load = () => loadavg().map((l) => Number(l.toFixed(2)));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const file = process.env.OPSC_E2E_FIXTURE;
  if (!file) throw new BenchError('OPSC_E2E_FIXTURE is not set: run ./deploy/bench-console.sh, or point it at the fixture of a held installation');
  if (!existsSync(file)) throw new BenchError(`the fixture file ${file} does not exist: is the installation up? (./deploy/bench-console.sh starts one)`);
  const stack = readStack();
  const loadStart = load();

  const probe = await launch().catch((e: unknown) => {
    throw new BenchError(`chromium did not start (${process.env.CHROMIUM ?? '/usr/bin/chromium'}): ${String(e)}`);
  });
  const chromium = probe.version();
  await probe.close();

  const admin = new Admin(stack.base_url, stack.admin);
  const api = await admin.api().catch((e: unknown) => {
    throw new BenchError(`the fixture's admin could not log in to ${stack.base_url}: ${String(e)}`);
  });
  const work = new Workload(args.lines, args.perStep, args.rate);
  const tag = `bench-${Date.now().toString(36)}`;
  say(`setting up: a target on the test sshd and a job of ${work.steps().length} ssh.exec steps printing ${work.total} lines (${work.bytes()} bytes, ${work.rate ? `at most ${work.rate} a second` : 'as fast as it can'})`);
  const target = await sshTarget(api, stack, tag);
  const job = await outputJob(api, stack, tag, target, work);

  const o: Options = { stack, admin, work, timeoutMs: args.timeoutS * 1000, say };
  const liveFigures = await live(o, job);
  say('checking that every line was recorded for the replay');
  const stored = await recorded(admin, liveFigures.run_id, work, 180_000);
  const replayFigures = await replay(o, liveFigures.run_id);

  const result = {
    bench: 'console-output',
    lines: work.total,
    steps: work.steps().length,
    rate_limit_lines_per_s: work.rate,
    output_bytes: work.bytes(),
    replay_sse_bytes: stored.sseBytes,
    chromium,
    cores: cpus().length,
    load_average: { start: loadStart, end: load() },
    memory_source:
      'JS heap: CDP Performance.getMetrics (after HeapProfiler.collectGarbage for *_after_gc); renderer: the largest renderer pid of CDP SystemInfo.getProcessInfo, /proc/<pid>/status VmRSS and /proc/<pid>/smaps_rollup Pss',
    live: liveFigures,
    replay: replayFigures,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

try {
  await main();
  process.exit(0);
} catch (e) {
  if (e instanceof BenchError) {
    say(`error: ${e.message}`);
  } else {
    say(`error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  process.exit(1);
}
