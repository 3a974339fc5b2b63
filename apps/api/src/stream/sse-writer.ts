import type { ServerResponse } from 'node:http';
import type { MessageEvent } from '@nestjs/common';
import { Subscription } from 'rxjs';
import type { Observable } from 'rxjs';

export interface SlowReaderLimits {
  /** Unsent bytes a stream may hold (STREAM_MAX_BUFFER_BYTES) … */
  maxBufferBytes: number;
  /** … for at most this long (STREAM_SLOW_READER_GRACE); four times as many close it at once. */
  graceMs: number;
}

export type SseEnd = 'completed' | 'client-closed' | 'slow-reader';

/** One event in the text/event-stream format (an EventSource reads it). */
export function formatSse(e: MessageEvent & { comment?: string }): string {
  if (e.comment !== undefined && e.data === undefined) return `: ${e.comment}\n\n`;
  let out = '';
  if (e.type) out += `event: ${e.type}\n`;
  if (e.id) out += `id: ${e.id}\n`;
  if (e.retry) out += `retry: ${e.retry}\n`;
  const text = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
  for (const line of text.split(/\r?\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * Writes `events` to `res` (already answered 200 text/event-stream) until the observable
 * completes or the client goes away. Writes never wait, so a client that stops reading would
 * make its events pile up in this process: when a write returns false (the socket's buffer is
 * full) and what is still unsent stays above `maxBufferBytes` for `graceMs`, or grows past four
 * times that, the stream is closed and its memory freed; the client reconnects (with a new
 * ticket) and reloads on `ready`. `onEnd` runs once, with the reason.
 */
export function pipeEventsToResponse(
  events: Observable<MessageEvent>,
  res: ServerResponse,
  limits: SlowReaderLimits,
  onEnd: (reason: SseEnd) => void,
): void {
  let ended = false;
  // Closed first when the stream ends before `subscribe` returns: then add() unsubscribes at once.
  const subscription = new Subscription();
  let slowTimer: NodeJS.Timeout | null = null;
  const clearSlow = () => {
    if (slowTimer) clearTimeout(slowTimer);
    slowTimer = null;
  };
  const finish = (reason: SseEnd) => {
    if (ended) return;
    ended = true;
    clearSlow();
    subscription.unsubscribe();
    if (reason === 'slow-reader') res.destroy();
    else if (reason === 'completed') res.end();
    onEnd(reason);
  };
  const overLimit = () => res.writableLength > limits.maxBufferBytes;
  const write = (chunk: string) => {
    if (ended || res.destroyed) return;
    if (res.write(chunk)) return;
    if (res.writableLength > 4 * limits.maxBufferBytes) return finish('slow-reader');
    if (overLimit() && !slowTimer) {
      slowTimer = setTimeout(() => {
        slowTimer = null;
        if (overLimit()) finish('slow-reader');
      }, limits.graceMs);
      slowTimer.unref();
    }
  };
  res.on('drain', clearSlow);
  res.on('close', () => finish('client-closed'));
  subscription.add(
    events.subscribe({
      next: (e) => write(formatSse(e)),
      complete: () => finish('completed'),
      error: () => finish('completed'),
    }),
  );
}
