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

/** The id of an event's body: stable, so a re-processed event overwrites instead of duplicating. */
export function eventNodeId(projectId: number, eventId: string): string {
  return `e:${projectId}:${eventId}`;
}

export { encodeNode, decodeNode, EncodedNode, type NodeData } from './codec.js';
