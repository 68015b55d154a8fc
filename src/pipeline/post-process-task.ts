/**
 * The message on the `post-process` queue: one per saved event, carrying what only the save step
 * knows (did this event create its issue, did it reopen it). Serialized even in one process
 * (DESIGN.md "treat the embedded queue as a real one").
 */
import type { QueueBackend } from '../services/queue/index.js';
import type { SavedEvent } from './save.js';

export const POST_PROCESS_QUEUE = 'post-process';

export interface PostProcessTask extends SavedEvent {
  v: 1;
  /** When the event was saved (Unix ms). */
  savedAt: number;
}

export async function enqueuePostProcess(queue: QueueBackend, events: SavedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const now = Date.now();
  await queue.enqueue(POST_PROCESS_QUEUE, events.map((e) => Buffer.from(JSON.stringify({ v: 1, savedAt: now, ...e } satisfies PostProcessTask))));
}

export function decodePostProcessTask(buf: Buffer): PostProcessTask {
  const t = JSON.parse(buf.toString('utf8')) as PostProcessTask;
  if (t.v !== 1) throw new Error(`unknown post-process task version ${String(t.v)}`);
  return t;
}
