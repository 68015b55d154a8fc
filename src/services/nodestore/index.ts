/**
 * The nodestore: event bodies by id (Sentry's nodestore: get / set / delete / get_multi).
 *
 * Bodies are stored in a compressed, versioned format (`codec.ts`) so a backend only moves bytes
 * and a later format can be read beside an older one. SQL stays the index; this is the blob store.
 */
import type { Executor } from '../executor.js';
import type { NodeData } from './codec.js';

/** The blob store of event bodies. Every backend passes the same contract suite. */
export interface NodestoreBackend {
  /** One body, or null when there is none. */
  get(id: string): Promise<Record<string, unknown> | null>;
  /** The bodies that exist among `ids` (missing ids are simply absent from the map). */
  getMulti(ids: string[]): Promise<Map<string, Record<string, unknown>>>;
  /** Writes bodies; with `executor`, SQL backends write inside the caller's transaction. */
  setMulti(items: { id: string; data: NodeData; timestamp: number }[], executor?: Executor): Promise<void>;
  /** Removes bodies; ids without one are ignored. */
  delete(ids: string[], executor?: Executor): Promise<void>;
}

/**
 * Walking a backend's bodies in a stable order, in pages, for `faultline nodestore migrate`. Not
 * part of the service callers see: only offline jobs list a whole store.
 */
export interface NodestoreScan {
  /** The next `limit` ids after the opaque `cursor` (null: from the start); `next` is null at the end. */
  scan(cursor: string | null, limit: number): Promise<{ items: { id: string; timestamp: number }[]; next: string | null }>;
  /** How many bodies the backend holds (for a progress bar; may be an estimate). */
  count(): Promise<number>;
  /**
   * The stored bytes of the bodies that exist among `ids`, as `setMulti` takes them back
   * (`EncodedNode`): a copy moves bodies without decoding them, so they keep their format and
   * dictionary.
   */
  getEncodedMulti(ids: string[]): Promise<Map<string, Buffer>>;
}

/** What an event's body id is made of: its events row's project, event id and receive time. */
export interface EventRef {
  project_id: number;
  event_id: string;
  /** When ingest received the event (Unix ms; `events.received`). */
  received: number | string | bigint;
}

/**
 * The id of an event's body: `e:<projectId>:<received>:<eventId>`, the receive time in 12 hex
 * digits of milliseconds. Stable (a redelivered task carries its receive time), so a re-processed
 * event overwrites instead of duplicating. The time before the event id makes ids sort as they
 * are written: a batch's bodies go to the end of the id index instead of onto a random page of it
 * each, which the commit then writes whole (docs/decisions.md).
 */
export function eventNodeId(projectId: number, eventId: string, received: number): string {
  return `e:${projectId}:${received.toString(16).padStart(12, '0')}:${eventId}`;
}

/** The id an event's body had when saved by a release before time-ordered ids; still read. */
export function legacyEventNodeId(projectId: number, eventId: string): string {
  return `e:${projectId}:${eventId}`;
}

function refId(ref: EventRef): string {
  return eventNodeId(Number(ref.project_id), ref.event_id, Number(ref.received));
}

/**
 * The bodies of events (null where none is stored), in the order of `refs`. A body saved under
 * its legacy id is found there when the time-ordered one is missing.
 */
export async function getEventBodies(nodestore: NodestoreBackend, refs: EventRef[]): Promise<(Record<string, unknown> | null)[]> {
  if (refs.length === 0) return [];
  const ids = refs.map(refId);
  const found = await nodestore.getMulti(ids);
  const missing = refs.filter((_, i) => !found.has(ids[i]));
  const legacy = missing.length ? await nodestore.getMulti(missing.map((r) => legacyEventNodeId(Number(r.project_id), r.event_id))) : new Map();
  return refs.map((r, i) => found.get(ids[i]) ?? legacy.get(legacyEventNodeId(Number(r.project_id), r.event_id)) ?? null);
}

/** Every id an event's body may be stored under (for deleting it). */
export function eventNodeIds(refs: EventRef[]): string[] {
  return refs.flatMap((r) => [refId(r), legacyEventNodeId(Number(r.project_id), r.event_id)]);
}

export { encodeNode, decodeNode, EncodedNode, withStackTexts, type NodeData, type StackPiece } from './codec.js';
