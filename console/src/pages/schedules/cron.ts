// A cron expression in words (cronstrue), with the few rules of our
// dialect that cronstrue does not know. The api stays the judge of
// validity: this reading only helps a person see what they typed.
import cronstrue from 'cronstrue';

const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The reading of an expression, or why it cannot be read. */
export type Reading = { ok: true; text: string } | { ok: false; error: string };

/** `Every 15 minutes`, `At 02:30, only on Sunday`; an error for what our
 * scheduler refuses (a year field, `@reboot`, croner's `+`). */
export function readCron(expr: string): Reading {
  const e = expr.trim().replace(/\s+/g, ' ');
  if (!e) return { ok: false, error: 'Enter a cron expression.' };
  let five = e;
  if (e.startsWith('@')) {
    const n = NICKNAMES[e.toLowerCase()];
    if (!n) return { ok: false, error: `Unknown nickname ${e}: use @yearly, @monthly, @weekly, @daily or @hourly.` };
    five = n;
  }
  const fields = five.split(' ');
  if (fields.length > 6) return { ok: false, error: 'At most six fields (seconds first); a year field is not accepted.' };
  if (fields.length < 5) return { ok: false, error: `Five fields (minute hour day-of-month month day-of-week), or six with seconds first; this has ${fields.length}.` };
  if (fields.some((f) => f.startsWith('+'))) return { ok: false, error: 'The "+" day-of-week prefix is not accepted.' };
  try {
    return { ok: true, text: cronstrue.toString(five, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false }) };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, error: msg.replace(/^Error: /, '') };
  }
}

/** Whether an expression fires more often than once a minute (six fields, seconds not a single value). */
export function everySecond(expr: string): boolean {
  const fields = expr.trim().split(/\s+/);
  return fields.length === 6 && !/^\d+$/.test(fields[0] ?? '');
}
