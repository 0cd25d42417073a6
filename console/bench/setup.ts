// What the bench makes through the API, as the fixture's admin: an SSH key
// credential and a target on the test sshd with its host key approved (the
// way an admin does it: test, review the presented key, approve, test
// again), the job printing the workload, its runs, and a read of a run's
// whole stream that checks every line against the workload.
import { Api } from '../e2e/api';
import type { Account, Stack } from '../e2e/stack';
import { STEP_CAP_BYTES, type Workload } from './workload';

/** A failure the bench reports in one sentence (no stack trace). */
export class BenchError extends Error {}

/** Access tokens live 15 minutes and the journeys' client does not renew
 * them: a benchmark outlives one, so it signs in again every few minutes. */
export class Admin {
  private current: Api | null = null;
  private at = 0;

  constructor(
    private readonly base: string,
    private readonly account: Account,
  ) {}

  /** The API as the admin, with a token at most five minutes old. */
  async api(): Promise<Api> {
    if (!this.current || Date.now() - this.at > 5 * 60_000) {
      this.current = await Api.login(this.base, this.account);
      this.at = Date.now();
    }
    return this.current;
  }
}

interface Outcome {
  ok: boolean;
  stage?: string | null;
  error?: string | null;
  host_key?: { fingerprint?: string } | null;
}

/** A run as far as the bench reads it. */
export interface RunInfo {
  id: string;
  status: string;
  reason?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'worker_lost', 'skipped']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A credential and a strict-policy target on the sshd, its key approved and a test passed; the target's name. */
export async function sshTarget(api: Api, stack: Stack, tag: string): Promise<string> {
  const { sshd } = stack;
  const credential = await api.post<{ id: string }>('/api/v1/credentials', {
    name: `${tag}-key`,
    spec: { type: 'ssh_key', username: sshd.user, private_key: sshd.private_key },
    scope: { hosts: [sshd.host] },
  });
  const target = await api.post<{ id: string; name: string }>('/api/v1/targets', {
    name: `${tag}-sshd`,
    hostname: sshd.host,
    os_type: 'linux',
    pool: stack.pool,
    tags: ['console-bench'],
    ssh: { credential_id: credential.id, port: sshd.port, host_key_policy: 'strict' },
  });
  const first = await api.post<Outcome>(`/api/v1/targets/${target.id}/test`);
  const presented = first.host_key?.fingerprint;
  if (first.ok || first.stage !== 'host_key' || presented !== sshd.host_fingerprint) {
    throw new BenchError(
      `the first connection test should stop at the unknown host key ${sshd.host_fingerprint}; it answered ${JSON.stringify(first)}`,
    );
  }
  await api.post(`/api/v1/targets/${target.id}/host-key/approve`, { fingerprint: presented });
  const second = await api.post<Outcome>(`/api/v1/targets/${target.id}/test`);
  if (!second.ok) throw new BenchError(`the target's connection test failed after approving its key: ${JSON.stringify(second)}`);
  return target.name;
}

/** The job: one ssh.exec step per `perStep` lines on `target`; its id. */
export async function outputJob(api: Api, stack: Stack, tag: string, target: string, work: Workload): Promise<string> {
  const steps = work.steps().map((s) => {
    const bytes = work.bytes(s.from, s.to);
    if (bytes > STEP_CAP_BYTES) {
      throw new BenchError(`step ${s.id} would print ${bytes} bytes, over the worker's ${STEP_CAP_BYTES}-byte cap per step: lower --per-step`);
    }
    return { id: s.id, type: 'ssh.exec', timeout_secs: 600, with: { command: work.command(s.from, s.to) } };
  });
  const job = await api.post<{ id: string }>('/api/v1/jobs', {
    name: `${tag}-output`,
    description: `Prints ${work.total} lines for the console's output benchmark (console/bench/output.ts).`,
    pool: stack.pool,
    tags: ['console-bench'],
    targets: { targets: [target] },
    timeout_secs: 3600,
    steps,
  });
  return job.id;
}

/** Starts a run of `job`; its id. */
export async function startRun(api: Api, job: string): Promise<string> {
  return (await api.post<{ run_id: string }>(`/api/v1/jobs/${job}/run`, { parameters: {} })).run_id;
}

/** The run as the API shows it now. */
export function getRun(api: Api, id: string): Promise<RunInfo> {
  return api.get<RunInfo>(`/api/v1/runs/${id}`);
}

/** Whether a run status is final. */
export const ended = (status: string) => TERMINAL.has(status);

/** Waits until the run ends; fails unless it succeeded. */
export async function runSucceeded(admin: Admin, id: string, timeoutMs: number): Promise<RunInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await getRun(await admin.api(), id);
    if (ended(run.status)) {
      if (run.status !== 'succeeded') throw new BenchError(`run ${id} ended ${run.status}: ${run.reason ?? 'no reason given'}`);
      return run;
    }
    if (Date.now() > deadline) throw new BenchError(`run ${id} still ${run.status} after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

/** What a finished run's stream replayed. */
export interface Replayed {
  /** Output lines in the stream. */
  lines: number;
  /** Their text and a newline each, in bytes. */
  textBytes: number;
  /** The whole Server-Sent Events body, in bytes. */
  sseBytes: number;
  /** Lines that differ from the workload's (the first few, for the message). */
  wrong: string[];
}

/** The events of a whole Server-Sent Events body (as the api writes it: LF line ends, `event:` and `data:` fields). */
function* events(body: string): Generator<{ event: string; data: string }> {
  for (const block of body.split('\n\n')) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
    }
    if (data.length > 0) yield { event, data: data.join('\n') };
  }
}

/** Reads `GET /api/v1/runs/{id}/stream` of a finished run to its end, checking each line against `work`. */
export async function replayStream(api: Api, id: string, work: Workload): Promise<Replayed> {
  const answer = await api.call<string>('GET', `/api/v1/runs/${id}/stream`);
  if (answer.status !== 200 || typeof answer.body !== 'string') {
    throw new BenchError(`GET /api/v1/runs/${id}/stream answered ${answer.status}`);
  }
  const first = new Map(work.steps().map((s) => [s.id, s.from]));
  const out: Replayed = { lines: 0, textBytes: 0, sseBytes: Buffer.byteLength(answer.body), wrong: [] };
  for (const ev of events(answer.body)) {
    if (ev.event !== 'output') continue;
    const f = JSON.parse(ev.data) as { step_id: string; line_no: number; text: string };
    out.lines++;
    out.textBytes += Buffer.byteLength(f.text) + 1;
    const i = (first.get(f.step_id) ?? NaN) + f.line_no - 1;
    if (out.wrong.length < 3 && f.text !== work.text(i)) out.wrong.push(`${f.step_id} line ${f.line_no}: ${JSON.stringify(f.text.slice(0, 80))}`);
  }
  return out;
}

/** Replays the run until every line is recorded (the recorder writes them to PostgreSQL behind the live stream). */
export async function recorded(admin: Admin, id: string, work: Workload, timeoutMs: number): Promise<Replayed> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await replayStream(await admin.api(), id, work);
    if (r.wrong.length > 0) throw new BenchError(`the stream of run ${id} holds lines the job did not print: ${r.wrong.join('; ')}`);
    if (r.lines >= work.total) return r;
    if (Date.now() > deadline) {
      throw new BenchError(`run ${id} has ${r.lines} of its ${work.total} lines recorded after ${timeoutMs / 1000} s (lost from the installation's 8 MiB output stream before the recorder read them?)`);
    }
    await sleep(3000);
  }
}
