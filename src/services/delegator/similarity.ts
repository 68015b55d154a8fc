/**
 * The similarity score of two answers to the same call, 0 (nothing alike) .. 1 (the same), as
 * Sentry's Service Delegator computed it for every shadowed call ("Field Guide: Mitigating Risk
 * While Transitioning Databases"): numbers by relative difference, strings / booleans / other
 * scalars by equality, sets by Jaccard index, sequences pairwise, mappings key by key, recursively.
 *
 * Left out: fuzzy string distance (a body that differs by one character scores 0 for that field,
 * which is what a storage migration wants to see) and cycle detection (service answers are trees).
 */

/** A Map is compared key by key: a key missing on one side scores 0, so equal values give the Jaccard index of the keys. */
function mappingSimilarity(a: Map<unknown, unknown>, b: Map<unknown, unknown>): number {
  const keys = new Set<unknown>([...a.keys(), ...b.keys()]);
  if (keys.size === 0) return 1;
  let sum = 0;
  for (const k of keys) if (a.has(k) && b.has(k)) sum += similarity(a.get(k), b.get(k));
  return sum / keys.size;
}

/** Jaccard index |A ∩ B| / |A ∪ B|; members are matched by a canonical JSON form so equal objects count as one. */
function jaccard(a: Iterable<unknown>, b: Iterable<unknown>): number {
  const sa = new Set([...a].map(canonical));
  const sb = new Set([...b].map(canonical));
  const union = new Set([...sa, ...sb]);
  if (union.size === 0) return 1;
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / union.size;
}

/** Pairwise over the longer sequence: a missing element scores 0 (Sentry's 14/16 = 0.875 example). */
function sequenceSimilarity(a: readonly unknown[], b: readonly unknown[]): number {
  const n = Math.max(a.length, b.length);
  if (n === 0) return 1;
  let sum = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) sum += similarity(a[i], b[i]);
  return sum / n;
}

function numberSimilarity(a: number, b: number): number {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return 1;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  if (!Number.isFinite(scale) || scale === 0) return 0;
  return Math.max(0, 1 - Math.abs(a - b) / scale);
}

function canonical(v: unknown): string {
  if (Buffer.isBuffer(v)) return `buf:${v.toString('base64')}`;
  if (v instanceof Map) return `map:${canonical([...v.entries()].sort(([x], [y]) => (canonical(x) < canonical(y) ? -1 : 1)))}`;
  if (v instanceof Set) return `set:${canonical([...v].map(canonical).sort())}`;
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v) ?? String(v);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !Buffer.isBuffer(v) && !(v instanceof Date);

/** How alike two answers are, in 0..1. Values of different kinds score 0; two nulls score 1. */
export function similarity(a: unknown, b: unknown): number {
  if (a === b) return 1;
  if (typeof a === 'number' && typeof b === 'number') return numberSimilarity(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return numberSimilarity(Number(a), Number(b));
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b) ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime() ? 1 : 0;
  if (a instanceof Set && b instanceof Set) return jaccard(a, b);
  if (a instanceof Map && b instanceof Map) return mappingSimilarity(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return sequenceSimilarity(a, b);
  if (isPlainObject(a) && isPlainObject(b)) return mappingSimilarity(new Map(Object.entries(a)), new Map(Object.entries(b)));
  // Scalars of the same kind that are not === (strings, booleans), null against a value, or mixed kinds.
  return 0;
}
