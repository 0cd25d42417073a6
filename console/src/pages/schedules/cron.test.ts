import { describe, expect, it } from 'vitest';
import { everySecond, readCron } from './cron';

describe('readCron', () => {
  it('reads five and six fields, nicknames and our special characters', () => {
    expect(readCron('*/15 * * * *')).toEqual({ ok: true, text: 'Every 15 minutes' });
    expect(readCron('30 2 * * *')).toEqual({ ok: true, text: 'At 02:30' });
    expect(readCron('  @Daily ')).toEqual({ ok: true, text: 'At 00:00' });
    expect(readCron('0 0 * * 1#2')).toMatchObject({ ok: true, text: expect.stringContaining('second Monday') });
    expect(readCron('0 0 13 * 5')).toMatchObject({ ok: true, text: expect.stringContaining('and on Friday') });
    expect(readCron('*/5 * * * * *')).toEqual({ ok: true, text: 'Every 5 seconds' });
  });

  it('refuses what the scheduler refuses', () => {
    expect(readCron('')).toMatchObject({ ok: false });
    expect(readCron('@reboot')).toMatchObject({ ok: false, error: expect.stringContaining('Unknown nickname') });
    expect(readCron('0 0 0 1 1 * 2030')).toMatchObject({ ok: false, error: expect.stringContaining('year') });
    expect(readCron('* * * *')).toMatchObject({ ok: false, error: expect.stringContaining('has 4') });
    expect(readCron('0 0 * * +1')).toMatchObject({ ok: false });
    expect(readCron('61 * * * *')).toMatchObject({ ok: false, error: expect.stringContaining('minutes') });
  });

  it('tells per-second expressions apart', () => {
    expect(everySecond('* * * * * *')).toBe(true);
    expect(everySecond('0 * * * * *')).toBe(false);
    expect(everySecond('* * * * *')).toBe(false);
  });
});
