import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

const stream = 'event: output\ndata: {"a":1}\n\n: keep-alive\n\nevent: run\r\ndata: x\r\ndata: y\r\n\r\nevent: end\rdata: done\r\r';

describe('SseParser', () => {
  it('parses whole streams', () => {
    const events = new SseParser().push(stream);
    expect(events).toEqual([
      { event: 'output', data: '{"a":1}', id: undefined },
      { event: 'run', data: 'x\ny', id: undefined },
      { event: 'end', data: 'done', id: undefined },
    ]);
  });

  it('gives the same events however the body is split', () => {
    const whole = new SseParser().push(stream);
    for (let cut = 0; cut <= stream.length; cut++) {
      for (const size of [1, 2, 3, 7]) {
        const p = new SseParser();
        const got = [...p.push(stream.slice(0, cut))];
        for (let i = cut; i < stream.length; i += size) got.push(...p.push(stream.slice(i, i + size)));
        expect(got).toEqual(whole);
      }
    }
  });

  it('ignores comments and data-less events, keeps ids, defaults the name', () => {
    const p = new SseParser();
    expect(p.push(':hi\n\nid: 7\n\ndata:no space\n\n')).toEqual([{ event: 'message', data: 'no space', id: '7' }]);
  });

  it('does not dispatch an event the stream has not ended yet', () => {
    const p = new SseParser();
    expect(p.push('event: output\ndata: 1\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'output', data: '1', id: undefined }]);
  });
});
