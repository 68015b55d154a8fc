/**
 * The `single-exception:v1` and `chained-exception:v1` strategies, including exception groups.
 *
 * Follows `src/sentry/grouping/strategies/newstyle.py` (single_exception, chained_exception,
 * filter_exceptions_for_exception_groups, _maybe_override_main_exception_id) with the 2023-01-11
 * legacy child order: stacktrace, type, ns-error, value. The value is normalized like a message
 * and stops contributing once the stacktrace (or ns-error) does. Leaves out the frame-count
 * tallies Sentry keeps for Seer.
 */
import { componentKey, type GroupingComponent, makeComponent, updateComponent } from './components.js';
import { DEFAULT_RULES, type ExceptionData, type Rule } from './enhancements.js';
import { prepareFrames, str, type DroppedNote, type GroupingFrame } from './frame.js';
import { normalizeMessage } from './message.js';
import { type ComponentsByVariant, stacktraceVariants } from './stacktrace.js';

/** An exception as grouping reads it (defensively copied from `exception.values[i]`). */
export interface GroupingException {
  type: string | null;
  value: string | null;
  module: string | null;
  mechanism: Record<string, unknown> | null;
  frames: GroupingFrame[] | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads `exception.values` into grouping exceptions, preparing each stack trace. */
export function readExceptions(
  raw: unknown,
  platform: string,
  dropped: DroppedNote[],
  rules: readonly Rule[] = DEFAULT_RULES,
): GroupingException[] {
  const values = isRecord(raw) && Array.isArray(raw.values) ? raw.values : [];
  const out: GroupingException[] = [];
  values.forEach((v, i) => {
    if (!isRecord(v)) {
      if (v !== null && v !== undefined) dropped.push({ name: `exception.values.${i}`, value: 'exception is not an object' });
      return;
    }
    const mechanism = isRecord(v.mechanism) ? v.mechanism : null;
    const exc: ExceptionData = { type: str(v.type), value: str(v.value), mechanism: mechanism ? str(mechanism.type) : null };
    const stack = isRecord(v.stacktrace) ? v.stacktrace : null;
    const hasFrames = !!stack && Array.isArray(stack.frames) && stack.frames.length > 0;
    out.push({
      type: exc.type ?? null,
      value: exc.value ?? null,
      module: str(v.module),
      mechanism,
      frames: hasFrames ? prepareFrames(stack.frames, platform, exc, `exception.values.${i}.stacktrace.frames`, dropped, rules) : null,
    });
  });
  return out;
}

function nsErrorValue(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/**
 * Builds the exception component per variant for one exception. With `hashesOnly`, a value that
 * the stack trace or ns-error takes precedence over is left empty: it can never contribute, and
 * normalizing it (a pass of the parameterization regexes over the message) took about 7 µs for a
 * 20-character message and 42 µs for a 100-character one, against about 270 µs to group a new stack.
 */
export function singleException(exc: GroupingException, platform: string, rules: readonly Rule[] = DEFAULT_RULES, hashesOnly = false): ComponentsByVariant {
  const type = makeComponent('type', exc.type ? [exc.type] : []);
  let nsError: GroupingComponent | null = null;
  if (exc.mechanism) {
    if (exc.mechanism.synthetic) updateComponent(type, { contributes: false, hint: 'ignored because exception is synthetic' });
    const meta = isRecord(exc.mechanism.meta) ? exc.mechanism.meta : null;
    if (meta && 'ns_error' in meta) {
      const ns = isRecord(meta.ns_error) ? meta.ns_error : {};
      nsError = makeComponent('ns-error', [nsErrorValue(ns.domain), nsErrorValue(ns.code)]);
    }
  }
  const stacks: ComponentsByVariant = exc.frames
    ? stacktraceVariants(exc.frames, platform, { type: exc.type, value: exc.value, mechanism: exc.mechanism ? str(exc.mechanism.type) : null }, rules)
    : new Map([['!app', makeComponent('stacktrace')]]);

  const out: ComponentsByVariant = new Map();
  let normalizedValue: string | undefined;
  for (const [variant, stack] of stacks) {
    const value = makeComponent('value');
    if (!hashesOnly || !(stack.contributes || nsError?.contributes)) {
      const normalized = (normalizedValue ??= exc.value !== null ? normalizeMessage(exc.value) : '');
      if (normalized) updateComponent(value, { values: [normalized], hint: exc.value !== normalized ? 'stripped event-specific values' : null });
      if (stack.contributes && value.contributes) {
        updateComponent(value, { contributes: false, hint: 'ignored because stacktrace takes precedence' });
      }
      if (nsError?.contributes && value.contributes) {
        updateComponent(value, { contributes: false, hint: 'ignored because ns-error info takes precedence' });
      }
    }
    const values = nsError ? [stack, type, nsError, value] : [stack, type, value];
    out.set(variant, makeComponent('exception', values));
  }
  return out;
}

function mechanismId(exc: GroupingException, key: 'exception_id' | 'parent_id'): number | null {
  const v = exc.mechanism?.[key];
  return typeof v === 'number' ? v : null;
}

/**
 * Exception groups (RFC 0079): when the mechanism ids form a valid tree, keep one of each distinct
 * top-level exception (plus the root group), or a single exception and its first-child path.
 */
function filterExceptionGroups(
  exceptions: GroupingException[],
  components: Map<GroupingException, ComponentsByVariant>,
  python3Sdk: boolean,
): { exceptions: GroupingException[]; mainExceptionId?: number | null } {
  if (exceptions.length <= 1 || python3Sdk) return { exceptions };
  const children = new Map<number, GroupingException[]>();
  const byId = new Map<number, GroupingException>();
  for (const exc of [...exceptions].reverse()) {
    const id = mechanismId(exc, 'exception_id');
    const parent = mechanismId(exc, 'parent_id');
    if (!exc.mechanism || id === null || id === parent || byId.has(id)) return { exceptions };
    byId.set(id, exc);
    if (parent !== null) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent)!.push(exc);
    }
  }
  const childrenOf = (exc: GroupingException) => children.get(mechanismId(exc, 'exception_id')!) ?? [];
  const root = byId.get(0);
  if (!root) return { exceptions };
  const topLevel: GroupingException[] = [];
  const seen = new Set<GroupingException>();
  const collect = (exc: GroupingException): void => {
    if (seen.has(exc)) return; // a cycle: Sentry would recurse forever; stop instead
    seen.add(exc);
    if (exc.mechanism?.is_exception_group) childrenOf(exc).forEach(collect);
    else topLevel.push(exc);
  };
  collect(root);
  if (topLevel.length === 0) return { exceptions };
  // Python's stable sort by str(type), descending.
  const sorted = topLevel
    .map((exc, i) => ({ exc, i, key: String(exc.type ?? 'None') }))
    .sort((a, b) => (a.key === b.key ? a.i - b.i : a.key < b.key ? 1 : -1))
    .map((x) => x.exc);
  const keyOf = (exc: GroupingException) => [...(components.get(exc) ?? new Map()).values()].map(componentKey).join('|');
  const distinct = sorted.filter((exc, i) => i === 0 || keyOf(exc) !== keyOf(sorted[i - 1]));
  if (distinct.length === 1) {
    const main = distinct[0];
    const path: GroupingException[] = [];
    const visited = new Set<GroupingException>();
    for (let cur: GroupingException | undefined = main; cur && !visited.has(cur); cur = childrenOf(cur)[0]) {
      visited.add(cur);
      path.push(cur);
    }
    return { exceptions: path, mainExceptionId: mechanismId(main, 'exception_id') };
  }
  return { exceptions: [...distinct, root] };
}

/** Messages that make a React error's cause the main exception (so there, the message matters). */
export const REACT_ERRORS_WITH_CAUSE = [
  'There was an error during concurrent rendering but React was able to recover by instead synchronously rendering the entire root.',
  'There was an error while hydrating but React was able to recover by instead client rendering from the nearest Suspense boundary.',
];
const RXJAVA_TYPES = ['OnErrorNotImplementedException', 'CompositeException', 'UndeliverableException'];

/** The exception to title the issue by, when it is not the last one (React 19 causes, RxJava wrappers). */
function overrideMainException(exceptions: GroupingException[]): number | null {
  const first = exceptions[0];
  const last = exceptions[exceptions.length - 1];
  if (first.type === 'Error' && first.value && REACT_ERRORS_WITH_CAUSE.includes(first.value) && last.mechanism?.source === 'cause') {
    const id = mechanismId(last, 'exception_id');
    if (id !== null) return id;
  }
  const rx = exceptions.find(
    (e) => e.module === 'io.reactivex.rxjava3.exceptions' && e.type && RXJAVA_TYPES.includes(e.type) && e.mechanism?.type === 'UncaughtExceptionHandler',
  );
  const rxId = rx ? mechanismId(rx, 'exception_id') : null;
  if (rxId !== null) {
    const inner = exceptions.find((e) => mechanismId(e, 'parent_id') === rxId && mechanismId(e, 'exception_id') !== null);
    if (inner) return mechanismId(inner, 'exception_id');
  }
  return null;
}

/** The chained-exception strategy: one exception component, or a `chained-exception` of several. */
export function chainedException(
  all: GroupingException[],
  platform: string,
  python3Sdk: boolean,
  rules: readonly Rule[] = DEFAULT_RULES,
  hashesOnly = false,
): { variants: ComponentsByVariant; mainExceptionId: number | null } {
  const components = new Map<GroupingException, ComponentsByVariant>();
  for (const exc of all) components.set(exc, singleException(exc, platform, rules, hashesOnly));
  const filtered = filterExceptionGroups(all, components, python3Sdk);
  const exceptions = filtered.exceptions;
  let mainExceptionId = filtered.mainExceptionId ?? null;
  if (exceptions.length === 1) return { variants: components.get(exceptions[0])!, mainExceptionId };
  const override = overrideMainException(exceptions);
  if (override) mainExceptionId = override;
  const byVariant = new Map<string, GroupingComponent[]>();
  for (const exc of exceptions) {
    for (const [variant, c] of components.get(exc)!) {
      if (!byVariant.has(variant)) byVariant.set(variant, []);
      byVariant.get(variant)!.push(c);
    }
  }
  const variants: ComponentsByVariant = new Map();
  for (const [variant, list] of byVariant) variants.set(variant, makeComponent('chained-exception', list));
  return { variants, mainExceptionId };
}
