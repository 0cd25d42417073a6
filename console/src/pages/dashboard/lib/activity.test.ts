import { describe, expect, it } from 'vitest';
import { KEEP, applyFrame, feed, type RunLike } from './activity';

const names = (id: string) => (id === 'j1' ? 'backup' : 'a job');
const base: RunLike[] = [{ id: 'r0', job_name: 'old', status: 'succeeded', created_at: '2026-12-03T06:00:00Z', started_at: '2026-12-03T06:00:01Z', finished_at: '2026-12-03T06:00:05Z' }];

describe('the activity stream applied to the feed', () => {
  it('adds an accepted run named by its job, then starts and ends it', () => {
    let runs = applyFrame(base, { type: 'accepted', time: '2026-12-03T07:00:00Z', data: { run_id: 'r1', job_id: 'j1' } }, names);
    expect(runs[0]).toMatchObject({ id: 'r1', job_name: 'backup', status: 'queued', created_at: '2026-12-03T07:00:00Z' });
    runs = applyFrame(runs, { type: 'started', time: '2026-12-03T07:00:01Z', data: { run_id: 'r1' } }, names);
    // A second shard's start changes nothing.
    const again = applyFrame(runs, { type: 'started', time: '2026-12-03T07:00:09Z', data: { run_id: 'r1' } }, names);
    expect(again).toBe(runs);
    runs = applyFrame(runs, { type: 'finished', time: '2026-12-03T07:00:04Z', data: { run_id: 'r1', status: 'failed' } }, names);
    expect(runs[0]).toMatchObject({ status: 'failed', started_at: '2026-12-03T07:00:01Z', finished_at: '2026-12-03T07:00:04Z' });
    expect(feed(runs, 3).map((h) => `${h.run.id}-${h.what}`)).toEqual(['r1-finished', 'r1-started', 'r0-finished']);
  });

  it('ignores a repeated acceptance, runs it does not hold and unknown types', () => {
    const accepted = { type: 'accepted', time: '2026-12-03T07:00:00Z', data: { run_id: 'r0', job_id: 'j1' } };
    expect(applyFrame(base, accepted, names)).toBe(base);
    expect(applyFrame(base, { type: 'finished', data: { run_id: 'elsewhere', status: 'failed' } }, names)).toBe(base);
    expect(applyFrame(base, { type: 'step_started', data: { run_id: 'r0' } }, names)).toBe(base);
  });

  it('keeps the newest runs only', () => {
    let runs: RunLike[] = [];
    for (let i = 0; i < KEEP + 5; i++) {
      runs = applyFrame(runs, { type: 'accepted', time: `2026-12-03T07:00:${String(i % 60).padStart(2, '0')}Z`, data: { run_id: `r${i}`, job_id: 'j' } }, names);
    }
    expect(runs).toHaveLength(KEEP);
    expect(runs[0]).toMatchObject({ id: `r${KEEP + 4}`, job_name: 'a job' });
  });
});
