/**
 * The nodestore: event bodies by id (Sentry's nodestore: get / set / delete / get_multi).
 *
 * Bodies are stored in a compressed, versioned format (`codec.ts`) so a backend only moves bytes
 * and a later format can be read beside an older one. SQL stays the index; this is the blob store.
 */
import type { Executor } from '../executor.js';

export interface NodestoreBackend {
  get(id: string): Promise<Record<string, unknown> | null>;
  getMulti(ids: string[]): Promise<Map<string, Record<string, unknown>>>;
  /** Writes bodies; with `executor`, SQL backends write inside the caller's transaction. */
  setMulti(items: { id: string; data: Record<string, unknown>; timestamp: number }[], executor?: Executor): Promise<void>;
  delete(ids: string[], executor?: Executor): Promise<void>;
}

/** The id of an event's body: stable, so a re-processed event overwrites instead of duplicating. */
export function eventNodeId(projectId: number, eventId: string): string {
  return `e:${projectId}:${eventId}`;
}

export { encodeNode, decodeNode } from './codec.js';
