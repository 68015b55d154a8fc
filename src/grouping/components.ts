/**
 * Grouping components: the tree every strategy builds and the md5 hash computed from it.
 *
 * Follows Sentry's `src/sentry/grouping/component.py` (BaseGroupingComponent) and
 * `grouping/utils.py` (`hash_from_values`): a node contributes when any child does, and the hash
 * is md5 over the UTF-8 bytes of every contributing leaf value with no separator. Leaves out the
 * similarity encoders and the "tree label" used only by Sentry's UI.
 */
import { createHash, hash } from 'node:crypto';

/** A node of the grouping tree, serialized the way Sentry's `as_dict()` does. */
export interface GroupingComponent {
  id: string;
  name?: string | null;
  contributes: boolean;
  hint: string | null;
  values: (GroupingComponent | string)[];
}

// Components with a human readable name are "major" ones, shown in a variant's description.
const KNOWN_MAJOR_COMPONENT_NAMES: Record<string, string> = {
  app: 'in-app',
  exception: 'exception',
  stacktrace: 'stack-trace',
  threads: 'thread',
  hostname: 'hostname',
  violation: 'violation',
  uri: 'URL',
  message: 'message',
  template: 'template',
};

type Value = GroupingComponent | string;

function isComponent(value: Value): value is GroupingComponent {
  return typeof value === 'object' && value !== null;
}

function calculateContributes(values: Value[]): boolean {
  return values.some((v) => !isComponent(v) || v.contributes);
}

/** Creates a component; without an explicit `contributes` it is derived from `values`. */
export function makeComponent(
  id: string,
  values: Value[] = [],
  opts: { hint?: string | null; contributes?: boolean } = {},
): GroupingComponent {
  return {
    id,
    name: KNOWN_MAJOR_COMPONENT_NAMES[id] ?? null,
    contributes: opts.contributes ?? calculateContributes(values),
    hint: opts.hint ?? null,
    values,
  };
}

/**
 * Updates a component in place with Sentry's semantics: a `null`/absent hint keeps the old one, and
 * new `values` without an explicit `contributes` recompute it (so renaming a value re-enables it).
 */
export function updateComponent(
  component: GroupingComponent,
  changes: { hint?: string | null; contributes?: boolean; values?: Value[] },
): void {
  if (changes.hint !== undefined && changes.hint !== null) component.hint = changes.hint;
  let contributes = changes.contributes;
  if (changes.values !== undefined) {
    if (contributes === undefined) contributes = calculateContributes(changes.values);
    component.values = changes.values;
  }
  if (contributes !== undefined) component.contributes = contributes;
}

/** The contributing leaf values of a component, in tree order. */
export function iterValues(component: GroupingComponent, out: string[] = []): string[] {
  if (!component.contributes) return out;
  for (const value of component.values) {
    if (isComponent(value)) iterValues(value, out);
    else out.push(value);
  }
  return out;
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/**
 * md5 over the UTF-8 bytes of `values`, concatenated without separator (Sentry's `hash_from_values`).
 * The values are joined and hashed in one update: a stack's hash has a hundred values or more, and
 * each update is a call into the crypto binding. Joining changes the bytes only where a value ends
 * in half a surrogate pair and the next begins with the other half (each half alone is encoded as
 * U+FFFD); such values are hashed one by one, as before.
 */
export function hashFromValues(values: Iterable<string>): string {
  const list = Array.isArray(values) ? (values as string[]) : [...values];
  let prev = '';
  for (const value of list) {
    if (value === '') continue;
    if (prev !== '' && isHighSurrogate(prev.charCodeAt(prev.length - 1)) && isLowSurrogate(value.charCodeAt(0))) {
      const md5 = createHash('md5');
      for (const v of list) md5.update(v, 'utf8');
      return md5.digest('hex');
    }
    prev = value;
  }
  return hash('md5', list.join(''), 'hex'); // one call: a Hash object per component cost about 1 µs more
}

/** The hash of a component tree, or null when it does not contribute. */
export function componentHash(component: GroupingComponent): string | null {
  return component.contributes ? hashFromValues(iterValues(component)) : null;
}

/** Finds subcomponents by id (optionally recursive / only contributing), like `iter_subcomponents`. */
export function findSubcomponents(
  component: GroupingComponent,
  id: string,
  opts: { recursive?: boolean; onlyContributing?: boolean } = {},
): GroupingComponent[] {
  const out: GroupingComponent[] = [];
  for (const value of component.values) {
    if (!isComponent(value)) continue;
    if (opts.onlyContributing && !value.contributes) continue;
    if (value.id === id) out.push(value);
    if (opts.recursive) out.push(...findSubcomponents(value, id, opts));
  }
  return out;
}

/**
 * The variant description: the longest path of contributing major components (e.g.
 * "in-app exception stack-trace"), as in Sentry's `BaseGroupingComponent.description`.
 */
export function describeComponent(component: GroupingComponent): string {
  const paths: string[][] = [];
  const walk = (c: GroupingComponent, current: (string | null)[]): void => {
    current.push(KNOWN_MAJOR_COMPONENT_NAMES[c.id] ?? null);
    for (const v of c.values) if (isComponent(v) && v.contributes) walk(v, current);
    paths.push(current.filter((n): n is string => !!n));
    current.pop();
  };
  walk(component, []);
  paths.sort((a, b) => a.length - b.length || compareStringLists(a, b));
  const longest = paths[paths.length - 1];
  if (longest && longest.length > 0) return longest.join(' ');
  return KNOWN_MAJOR_COMPONENT_NAMES[component.id] ?? component.id;
}

function compareStringLists(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/** A structural key of a component tree (stands in for Python's repr-based comparisons). */
export function componentKey(component: GroupingComponent): string {
  return JSON.stringify(component);
}
