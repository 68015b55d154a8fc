/** Test helper: turns one of Sentry's raw grouping test inputs into the event shape Faultline's pipeline produces. */
import type { NormalizedEvent } from '../../protocol/event.js';

export function toNormalizedEvent(input: Record<string, unknown>): NormalizedEvent {
  const event: Record<string, unknown> = { ...input };
  event.event_id ??= '0'.repeat(32);
  event.timestamp ??= 0;
  event.received ??= 0;
  event.platform ??= 'other';
  event.level ??= 'error';
  event.errors ??= [];
  if (typeof input.message === 'string' && !input.logentry) event.logentry = { formatted: input.message };
  const tags = input.tags;
  if (tags && !Array.isArray(tags) && typeof tags === 'object') event.tags = Object.entries(tags);
  event.tags ??= [];
  event.type ??= event.exception ? 'error' : 'default';
  return event as unknown as NormalizedEvent;
}

