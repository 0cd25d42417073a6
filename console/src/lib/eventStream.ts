// Reading a Server-Sent Events body that fetch returned (EventSource cannot
// send the Authorization header).
import { SseParser, type SseEvent } from './sse';

/** Reads `res`'s event stream to its end, handing each event to `onEvent`
 * and calling `onChunk` after each chunk's events; resolves when the
 * server ends the stream, rejects when it is cut or aborted. */
export async function readEvents(res: Response, onEvent: (ev: SseEvent) => void, onChunk?: () => void): Promise<void> {
  if (!res.body) throw new Error('the event stream has no body');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const ev of parser.push(value)) onEvent(ev);
    onChunk?.();
  }
}
