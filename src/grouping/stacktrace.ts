/**
 * The `stacktrace:v1` strategy: builds the `app` and `system` stacktrace components of one stack.
 *
 * Follows `src/sentry/grouping/strategies/newstyle.py` (`stacktrace`, `_single_stacktrace_variant`)
 * and `enhancer/__init__.py` (`assemble_stacktrace_component`): recursion dedupe, the JS single
 * frame rule (with the 2023-01-11 "backwards" URL check), stack trace rules, and the app/system
 * split. Keys follow Sentry: `!app` is the priority variant, `system` is deduped against it later.
 * Leaves out the frame-count metrics Sentry collects for Seer.
 */
import { type GroupingComponent, makeComponent, updateComponent } from './components.js';
import { applyContributionRules, contributionMatches, type ContributionMatches, DEFAULT_RULES, type ExceptionData, type Rule } from './enhancements.js';
import { frameComponent, type GroupingFrame, hasUrlOrigin } from './frame.js';
import { behaviorFamily } from './functions.js';

/** Components keyed by variant name; a `!` prefix marks the priority variant. */
export type ComponentsByVariant = Map<string, GroupingComponent>;

const RECURSION_FIELDS = ['abs_path', 'package', 'module', 'filename', 'function', 'lineno', 'colno'] as const;

function isRecursion(frame: GroupingFrame, prev: GroupingFrame | null): boolean {
  if (!prev) return false;
  return RECURSION_FIELDS.every((k) => (frame[k] ?? null) === (prev[k] ?? null));
}

/** A copy of a component tree (frame components are built once per stack and copied for the second variant). */
function copyComponent(c: GroupingComponent): GroupingComponent {
  return { ...c, values: c.values.map((v) => (typeof v === 'string' ? v : copyComponent(v))) };
}

/** `built`: each frame's component, as frameComponent made it; the variant takes them as they are. */
function singleVariant(variant: 'app' | 'system', frames: GroupingFrame[], platform: string, built: GroupingComponent[], matches: ContributionMatches): GroupingComponent {
  const components: GroupingComponent[] = [];
  let prev: GroupingFrame | null = null;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    const c = built[i];
    if (isRecursion(frame, prev)) updateComponent(c, { contributes: false, hint: 'ignored due to recursion' });
    if (variant === 'app' && !frame.inApp) updateComponent(c, { contributes: false });
    components.push(c);
    prev = frame;
  }
  // 2023-01-11 keeps a long-standing bug: the "non-URL" single frame check drops frames *with* URLs.
  if (
    frames.length === 1 &&
    components[0].contributes &&
    behaviorFamily(frames[0].platform || platform) === 'javascript' &&
    !frames[0].function &&
    hasUrlOrigin(frames[0].abs_path, true)
  ) {
    updateComponent(components[0], { contributes: false, hint: 'ignored single non-URL JavaScript frame' });
  }

  const stack = applyContributionRules(components, matches);
  // System frames never contribute to the app variant, whatever the rules said.
  if (variant === 'app') {
    components.forEach((c, i) => {
      const f = frames[i];
      if (f.inApp) return;
      const hint = f.inAppHint ?? (f.clientInApp === false ? 'marked out of app by the client' : null);
      c.contributes = false;
      if (hint) c.hint = hint;
    });
  }
  const inAppContributing = components.some((c, i) => c.contributes && frames[i].inApp);
  if (variant === 'app' && !inAppContributing) {
    return makeComponent('stacktrace', components, { contributes: false });
  }
  return makeComponent('stacktrace', components, { contributes: stack.contributes, hint: stack.hint });
}

/** Builds the `!app` and `system` stacktrace components for one stack trace. */
export function stacktraceVariants(
  frames: GroupingFrame[],
  platform: string,
  exc: ExceptionData,
  rules: readonly Rule[] = DEFAULT_RULES,
): ComponentsByVariant {
  const matches = contributionMatches(
    frames.map((f) => f.match),
    exc,
    rules,
  );
  const built = frames.map((f) => frameComponent(f, platform));
  const app = singleVariant('app', frames, platform, built.map(copyComponent), matches);
  const system = singleVariant('system', frames, platform, built, matches);
  let inApp = 0;
  let contributing = 0;
  let inAppContributing = 0;
  // The system variant's components are the frames' own, in order (singleVariant).
  const systemFrames = system.values as GroupingComponent[];
  for (let i = 0; i < systemFrames.length; i++) {
    const c = systemFrames[i];
    const isInApp = frames[i].inApp === true;
    if (isInApp) inApp++;
    if (c.contributes) contributing++;
    if (isInApp && c.contributes) inAppContributing++;
  }
  if (system.values.length === 0) {
    updateComponent(system, { contributes: false, hint: 'ignored because it contains no frames' });
    updateComponent(app, { contributes: false, hint: 'ignored because it contains no frames' });
  } else {
    if (contributing === 0) updateComponent(system, { contributes: false, hint: 'ignored because it contains no contributing frames' });
    if (inApp === 0) updateComponent(app, { contributes: false, hint: 'ignored because it contains no in-app frames' });
    else if (inAppContributing === 0) updateComponent(app, { contributes: false, hint: 'ignored because it contains no contributing frames' });
  }
  return new Map([
    ['!app', app],
    ['system', system],
  ]);
}

/**
 * When any variant has a contributing stacktrace, marks the variants without one as
 * non-contributing (Sentry's `remove_non_stacktrace_variants`).
 */
export function removeNonStacktraceVariants(variants: ComponentsByVariant): ComponentsByVariant {
  if (variants.size <= 1) return variants;
  const withStack: string[] = [];
  const without: GroupingComponent[] = [];
  for (const [key, component] of variants) {
    if (hasContributingStacktrace(component)) withStack.push(key.replace(/^!/, ''));
    else without.push(component);
  }
  if (withStack.length) {
    const suffix = withStack.length === 1 ? `the ${withStack[0]} variant does` : 'others do';
    for (const c of without) {
      updateComponent(c, { contributes: false, hint: `ignored because this variant does not have a contributing stacktrace, but ${suffix}` });
    }
  }
  return variants;
}

function hasContributingStacktrace(component: GroupingComponent): boolean {
  for (const v of component.values) {
    if (typeof v === 'string' || !v.contributes) continue;
    if (v.id === 'stacktrace' || hasContributingStacktrace(v)) return true;
  }
  return false;
}
