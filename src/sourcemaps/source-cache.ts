/**
 * Parsed source maps and file texts, cached per process by artifact SHA-1 (content-addressed, so
 * an entry never goes stale) in an LRU bounded by bytes (SOURCEMAP_CACHE_BYTES). A parsed map
 * costs a few times its JSON size; the weight counts the JSON text twice for that.
 *
 * Left out: a shared (Redis) cache; each worker parses what it needs.
 */
import { TraceMap } from '@jridgewell/trace-mapping';
import { LRUCache } from 'lru-cache';
import { SOURCEMAP_CACHE_BYTES } from './limits.js';

export type CachedMap = { ok: true; map: TraceMap } | { ok: false; reason: string };

export class SourceCache {
  readonly #maps = new LRUCache<string, { value: CachedMap; size: number }>({
    maxSize: SOURCEMAP_CACHE_BYTES,
    sizeCalculation: (v) => Math.max(1, v.size),
  });
  readonly #texts = new LRUCache<string, string>({
    maxSize: Math.floor(SOURCEMAP_CACHE_BYTES / 2),
    sizeCalculation: (v) => Math.max(1, v.length),
  });

  text(key: string): string | undefined {
    return this.#texts.get(key);
  }

  setText(key: string, t: string): string {
    if (t.length <= SOURCEMAP_CACHE_BYTES / 8) this.#texts.set(key, t);
    return t;
  }

  map(key: string): CachedMap | undefined {
    return this.#maps.get(key)?.value;
  }

  /** Parses a map's JSON text and caches the result; broken maps are cached as such. */
  parseMap(key: string, text: string): CachedMap {
    let value: CachedMap;
    try {
      const parsed = JSON.parse(text);
      if (!parsed || typeof parsed !== 'object' || (!Array.isArray(parsed.sources) && !Array.isArray(parsed.sections))) {
        throw new Error('not a source map (no sources)');
      }
      value = { ok: true, map: new TraceMap(parsed) };
    } catch (err) {
      value = { ok: false, reason: (err as Error).message.slice(0, 200) };
    }
    const size = text.length * 2;
    if (size <= SOURCEMAP_CACHE_BYTES / 4) this.#maps.set(key, { value, size });
    return value;
  }
}
