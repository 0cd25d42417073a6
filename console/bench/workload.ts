// What the bench's job prints: `total` numbered lines in a realistic mix
// (mostly short log lines, one in five ANSI-coloured, one in fifty ~200
// characters long, a few "checkpoint" lines to search for), produced on the
// test sshd by a small awk program, and the same lines computed here so the
// bench can check every line that comes back.
//
// 300,000 lines cannot come from one step today: the worker keeps at most
// 1 MiB of output per step and target (OUTPUT_CAP in
// workers/src/exec/shard.rs; later lines are dropped), and a step printing
// more than 5,000 lines stalls it (its output sink holds every publish
// acknowledgement until the step ends, and async-nats allows 5,000
// unacknowledged JetStream publishes, then waits). So the job has one
// ssh.exec step per `perStep` lines, numbered on across steps, and the
// console shows them all.
//
// The installation of the browser journeys sizes its output stream at
// 8 MiB (TEST_STREAM_BYTES in tests/e2e/harness/mod.rs, discarding the
// oldest messages): a job printing faster than the recorder and the live
// readers take lines off the bus loses lines there. The awk program paces
// itself to `rate` lines a second (0: as fast as it can).

/** What a step may print before the worker cuts it (text plus a newline per line). */
export const STEP_CAP_BYTES = 1024 * 1024;

/** The word the search measurement looks for. */
export const TERM = 'checkpoint';

/** A ~180-character tail of the long lines (no quote, brace or backslash: it goes into awk and a template). */
const FILLER =
  'request=GET /api/v1/items?page=42 status=200 bytes=18234 upstream=10.0.3.17:8443 ' +
  'cache=miss trace=4bf92f3577b34da6a3ce929d0e0e4736 user-agent=opsc-agent/2.4 region=eu-west-1 ok';

/** The output of one run of the bench's job. */
export class Workload {
  /** Digits of a line number (zero-padded, so line `total` is the only line starting with its number). */
  readonly width: number;
  /** Every `every`-th line is a checkpoint line. */
  readonly every: number;

  constructor(
    readonly total: number,
    readonly perStep: number,
    /** Lines a second at most (0: no limit). */
    readonly rate = 0,
  ) {
    this.width = Math.max(6, String(total).length);
    this.every = Math.max(2, Math.floor(total / 30));
  }

  /** Line `i` (1-based) as printed, ANSI escapes included, without its newline. */
  text(i: number): string {
    const n = String(i).padStart(this.width, '0');
    const esc = '\u001b';
    if (i === this.total) return `${n} [info] done: ${this.total} lines printed`;
    if (i % this.every === 0) return `${n} [info] ${TERM} ${i / this.every} reached`;
    if (i % 50 === 0) return `${n} [debug] ${FILLER}`;
    if (i % 10 === 3) return `${esc}[32m${n} [ ok ]${esc}[0m task ${i % 97} finished in ${i % 1000} ms`;
    if (i % 10 === 7) return `${esc}[1;31m${n} [warn]${esc}[0m retrying connection to host-${i % 13}`;
    return `${n} [info] processing item ${i} of ${this.total}`;
  }

  /** What line `i` starts with once its colours are stripped (unique to it). */
  prefix(i: number): string {
    return `${String(i).padStart(this.width, '0')} `;
  }

  /** The lines of the search term. */
  matches(): number {
    let n = 0;
    for (let i = this.every; i < this.total; i += this.every) n++;
    return n;
  }

  /** The steps: ids and the lines each prints (first and last, inclusive). */
  steps(): { id: string; from: number; to: number }[] {
    const out = [];
    for (let from = 1, k = 1; from <= this.total; from += this.perStep, k++) {
      out.push({ id: `part${String(k).padStart(2, '0')}`, from, to: Math.min(this.total, from + this.perStep - 1) });
    }
    return out;
  }

  /** Bytes the worker counts for lines `from`..`to` (text and newline; all ASCII). */
  bytes(from = 1, to = this.total): number {
    let n = 0;
    for (let i = from; i <= to; i++) n += this.text(i).length + 1;
    return n;
  }

  /** The shell command printing lines `from`..`to`: awk, the same mix as {@link text}. */
  command(from: number, to: number): string {
    // No `{{`, `{%` or `{#`: the command is a minijinja template.
    const program = [
      'BEGIN { e = sprintf("%c", 27); f = "%0" w "d";',
      'for (i = from; i <= to; i++) { n = sprintf(f, i);',
      'if (i == total) print n " [info] done: " total " lines printed";',
      `else if (i % every == 0) print n " [info] ${TERM} " (i / every) " reached";`,
      `else if (i % 50 == 0) print n " [debug] ${FILLER}";`,
      'else if (i % 10 == 3) print e "[32m" n " [ ok ]" e "[0m task " (i % 97) " finished in " (i % 1000) " ms";',
      'else if (i % 10 == 7) print e "[1;31m" n " [warn]" e "[0m retrying connection to host-" (i % 13);',
      'else print n " [info] processing item " i " of " total;',
      // A tenth of a second's worth of lines, then a tenth of a second's rest.
      'if (burst > 0 && i % burst == 0) { fflush(); system("sleep 0.1") }',
      '} }',
    ].join(' ');
    const burst = this.rate > 0 ? Math.max(1, Math.round(this.rate / 10)) : 0;
    return `awk -v from=${from} -v to=${to} -v total=${this.total} -v every=${this.every} -v w=${this.width} -v burst=${burst} '${program}'`;
  }
}
