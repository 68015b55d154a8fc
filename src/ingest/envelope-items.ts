/**
 * Decides what happens to each envelope item at the edge: which items are queued for the worker,
 * which are only counted, which are skipped. Unknown item types are skipped, never rejected
 * (protocol.md §3.1: "Unknown item types must be skipped gracefully").
 */
import { parseJson, ProtocolError, validateJson, type Envelope } from '../protocol/index.js';

/** Items whose JSON payload the worker reads. */
const QUEUED_JSON_ITEMS = new Set([
  'event', 'transaction', 'feedback', 'session', 'sessions', 'client_report', 'user_report', 'check_in', 'span', 'log',
]);
/** Items that create an issue event; their size is bounded by `maxEventSize`. */
const EVENT_ITEMS = new Set(['event', 'transaction', 'feedback']);

export interface AcceptedItem {
  itemType: string;
  /** The item's bytes as received (validated JSON): queued as they are, never re-encoded. */
  payload: Buffer;
}

export interface EnvelopePlan {
  eventId: string | null;
  items: AcceptedItem[];
  /** Items counted but not queued (attachments, replays, profiles, unknown types), by type. */
  skipped: Record<string, number>;
}

/** `projectId`: the project the envelope is for (its stacks' frames checked before are not checked again). */
export function planEnvelope(env: Envelope, limits: { maxEventSize: number }, allowNonFinite: boolean, projectId?: number): EnvelopePlan {
  let eventId = typeof env.headers.event_id === 'string' ? env.headers.event_id : null;
  const items: AcceptedItem[] = [];
  const skipped: Record<string, number> = {};
  for (const item of env.items) {
    const type = item.headers.type;
    if (EVENT_ITEMS.has(type) && item.payload.length > limits.maxEventSize) {
      throw new ProtocolError('too_large', `${type} item of ${item.payload.length} bytes exceeds ${limits.maxEventSize}`, 413);
    }
    if (!QUEUED_JSON_ITEMS.has(type)) {
      skipped[type] = (skipped[type] ?? 0) + 1;
      continue;
    }
    // Validate at the edge so a client hears about broken JSON (400) instead of a silent drop;
    // the values are built only by the worker (and here when the event id is only in the payload).
    const kind = validateJson(item.payload, { allowNonFinite, projectId });
    if (EVENT_ITEMS.has(type)) {
      if (kind !== 'object') throw new ProtocolError('invalid_json', `${type} item is not a JSON object`, 400);
      if (!eventId) {
        const parsed = parseJson(item.payload, { allowNonFinite }) as Record<string, unknown>;
        if (typeof parsed.event_id === 'string') eventId = parsed.event_id;
      }
    }
    items.push({ itemType: type, payload: item.payload });
  }
  return { eventId, items, skipped };
}
