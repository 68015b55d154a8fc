/**
 * The message on the `notify` queue: one per rule action (DESIGN.md: post-processing fans out one
 * queued job per consumer, so a failing webhook retries alone). `items` holds one issue for an
 * alert, several for a digest.
 */
import type { QueueBackend } from '../services/queue/index.js';

export const NOTIFY_QUEUE = 'notify';

export interface NotifyJob {
  v: 1;
  ruleId: number;
  actionIndex: number;
  projectId: number;
  digest: boolean;
  items: { groupId: number; eventId: string; firedAt: number }[];
}

export async function enqueueNotify(queue: QueueBackend, jobs: Omit<NotifyJob, 'v'>[]): Promise<void> {
  if (jobs.length === 0) return;
  await queue.enqueue(NOTIFY_QUEUE, jobs.map((j) => Buffer.from(JSON.stringify({ v: 1, ...j }))));
}

export function decodeNotifyJob(buf: Buffer): NotifyJob {
  const j = JSON.parse(buf.toString('utf8')) as NotifyJob;
  if (j.v !== 1) throw new Error(`unknown notify job version ${String(j.v)}`);
  return j;
}
