/**
 * Faultline's grouping engine: computes the grouping hashes of an event, byte-for-byte like
 * Sentry's grouping config `newstyle:2023-01-11`, plus the issue title, culprit and metadata.
 *
 * Pure functions, no I/O. The path of an event through here: build a defensive view of the event
 * (stack traces prepared with Sentry's built-in stack trace rules) → apply server-side
 * fingerprinting rules → checksum short-cut → run the strategies (exception, threads, stacktrace,
 * template, security reports, message) into `app`/`system`/`default` trees → turn the fingerprint
 * into custom / salted variants → md5 of contributing values → fallback md5(""). Follows
 * `src/sentry/grouping/api.py` (`get_grouping_variants_for_event`, `apply_server_fingerprinting`).
 * Project stack trace rules (`stacktraceRules`) run after the built-in ones. Leaves out secondary
 * (transition) configs and Seer similarity.
 */
import type { NormalizedEvent } from '../protocol/event.js';
import { componentHash, describeComponent, hashFromValues, type GroupingComponent, updateComponent } from './components.js';
import { buildEventView, type EventView } from './event-view.js';
import { DEFAULT_RULES, type Rule } from './enhancements.js';
import { parseStacktraceRules } from './stacktrace-rules.js';
import { expandTitleTemplate, fingerprintType, parseFingerprintVariable, resolveFingerprint, saltedHash } from './fingerprint.js';
import { matchFingerprintRule, parseFingerprintingRules, type FingerprintRule } from './fingerprint-rules.js';
import { runStrategies, strategyHash } from './strategies.js';
import { computeCulprit, computeTitle } from './title.js';

export type { GroupingComponent } from './components.js';
export { applyInAppDefaults, readInApp, writeInApp } from './in-app.js';
export { parameterize } from './parameterize.js';
export { parseFingerprintingRules, GroupingRulesError, type FingerprintRule, type FingerprintMatcher } from './fingerprint-rules.js';
export { parseStacktraceRules } from './stacktrace-rules.js';

/** The grouping config implemented here. */
export const GROUPING_CONFIG = 'newstyle:2023-01-11';

/** One way of hashing the event (Sentry's variants: app, system, default, custom_fingerprint, …). */
export interface GroupingVariant {
  key: string;
  type: 'component' | 'salted_component' | 'custom_fingerprint' | 'built_in_fingerprint' | 'checksum' | 'fallback';
  hash: string | null;
  description: string;
  component?: GroupingComponent;
  values?: string[];
  contributes: boolean;
  hint?: string | null;
}

/** Everything grouping decided about an event. */
export interface GroupingResult {
  config: 'newstyle:2023-01-11';
  /** Contributing hashes, preferred first (app, then system, then the rest); never empty. */
  hashes: string[];
  variants: Record<string, GroupingVariant>;
  title: string;
  culprit: string | null;
  /** Sentry's issue metadata: `{type, value, filename, function, in_app_frame_mix?}` or `{title}`. */
  metadata: Record<string, unknown>;
  location?: string | null;
  /** Which of the event's exception objects (in order) the title and metadata describe. */
  titleException?: number;
  fingerprintInfo?: { matchedRule?: string; clientFingerprint?: string[] };
}

/** Options that come from the project's settings. */
export interface GroupingOptions {
  /** The project's server-side fingerprinting rules text (may be empty). */
  fingerprintingRules?: string;
  /** The project's stack trace rules text (Sentry's `groupingEnhancements`); applied after the built-in rules. */
  stacktraceRules?: string;
  /**
   * Only the hashes, title and metadata are read, not the variants' component trees: leaves out
   * what only a tree shows, such as the normalized text of an exception value that a stack trace
   * takes precedence over, and the component variants' descriptions (left empty). Hashes, title
   * and metadata are the same either way.
   */
  hashesOnly?: boolean;
}

const HASH_RE = /^[0-9a-f]{32}$/;
const EMPTY_HASH = hashFromValues([]);

function clientFingerprint(event: NormalizedEvent): string[] | null {
  const fp = event.fingerprint as unknown;
  if (!Array.isArray(fp) || fp.length === 0) return null;
  const out = fp.filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
  return out.length ? out : null;
}

function projectRules(text: string | undefined): FingerprintRule[] {
  if (!text) return [];
  try {
    return parseFingerprintingRules(text);
  } catch {
    return []; // Sentry ignores a project's rules when they do not parse.
  }
}

function stackRules(text: string | undefined): readonly Rule[] {
  if (!text) return DEFAULT_RULES;
  try {
    return [...DEFAULT_RULES, ...parseStacktraceRules(text)];
  } catch {
    return DEFAULT_RULES; // Like fingerprinting rules: a project's broken rules are ignored, not fatal.
  }
}

/**
 * A variant root's hash. Its values are the strategies' components, and in the common case one of
 * them contributes, whose hash (its values are the root's) the strategy already took.
 */
function rootHash(root: GroupingComponent): string | null {
  if (!root.contributes) return null;
  let only: GroupingComponent | null = null;
  for (const v of root.values) {
    if (typeof v === 'string') return componentHash(root);
    if (!v.contributes) continue;
    if (only) return componentHash(root);
    only = v;
  }
  return (only && strategyHash(only)) ?? componentHash(root);
}

/** With `hashesOnly` the description is left empty: walking the tree for it is read only by grouping-info. */
function componentVariant(key: string, root: GroupingComponent, hashesOnly: boolean): GroupingVariant {
  return {
    key,
    type: 'component',
    hash: rootHash(root),
    description: hashesOnly ? '' : describeComponent(root),
    component: root,
    contributes: root.contributes,
    hint: root.hint,
  };
}

function orderHashes(variants: Record<string, GroupingVariant>): string[] {
  const keys = Object.keys(variants);
  const ordered = [
    ...keys.filter((k) => k === 'app'),
    ...keys.filter((k) => k === 'system'),
    ...keys.filter((k) => k !== 'app' && k !== 'system'),
  ];
  const hashes: string[] = [];
  for (const k of ordered) {
    const v = variants[k];
    if (v.contributes && v.hash && !hashes.includes(v.hash)) hashes.push(v.hash);
  }
  return hashes;
}

function computeVariants(view: EventView, fingerprint: string[], matched: FingerprintRule | null) {
  const event = view.event;
  const checksum = typeof event.checksum === 'string' ? event.checksum : null;
  if (checksum) {
    if (HASH_RE.test(checksum)) {
      return { variants: { checksum: { key: 'checksum', type: 'checksum', hash: checksum, description: 'legacy checksum', contributes: true } } as Record<string, GroupingVariant>, mainExceptionId: null };
    }
    return {
      variants: { hashed_checksum: { key: 'hashed_checksum', type: 'checksum', hash: hashFromValues([checksum]), description: 'hashed legacy checksum', values: [checksum], contributes: true } } as Record<string, GroupingVariant>,
      mainExceptionId: null,
    };
  }
  const type = fingerprintType(fingerprint);
  const resolved = type === 'default' ? fingerprint : resolveFingerprint(fingerprint, view);
  const { roots, mainExceptionId } = runStrategies(view);
  const variants: Record<string, GroupingVariant> = {};
  if (type === 'custom') {
    const hint = matched?.isBuiltin ? 'Sentry defined fingerprint takes precedence' : matched ? 'custom server fingerprint takes precedence' : 'custom fingerprint takes precedence';
    for (const [key, root] of roots) {
      updateComponent(root, { contributes: false, hint });
      variants[key] = componentVariant(key, root, view.hashesOnly);
    }
    const key = matched?.isBuiltin ? 'built_in_fingerprint' : 'custom_fingerprint';
    variants[key] = {
      key,
      type: key,
      hash: hashFromValues(resolved),
      description: matched?.isBuiltin ? 'Sentry defined fingerprint' : 'custom fingerprint',
      values: resolved,
      contributes: true,
    };
  } else {
    for (const [key, root] of roots) {
      const v = componentVariant(key, root, view.hashesOnly);
      if (type === 'hybrid') {
        v.type = 'salted_component';
        v.hash = saltedHash(resolved, root);
        v.description = `modified ${v.description}`;
        v.values = resolved;
      }
      variants[key] = v;
    }
  }
  if (!Object.values(variants).some((v) => v.contributes)) {
    variants.fallback = { key: 'fallback', type: 'fallback', hash: EMPTY_HASH, description: 'fallback', contributes: true };
  }
  return { variants, mainExceptionId };
}

function groupEventUnsafe(event: NormalizedEvent, options: GroupingOptions): GroupingResult {
  const view = buildEventView(event, stackRules(options.stacktraceRules), options.hashesOnly ?? false);
  let fingerprint = clientFingerprint(event);
  const info: NonNullable<GroupingResult['fingerprintInfo']> = {};
  if (fingerprint && !(fingerprint.length === 1 && parseFingerprintVariable(fingerprint[0]) === 'default')) {
    info.clientFingerprint = fingerprint;
  }
  const matched = matchFingerprintRule(projectRules(options.fingerprintingRules), view);
  let customTitle: string | null = null;
  if (matched) {
    fingerprint = matched.fingerprint;
    info.matchedRule = matched.text;
    if (matched.attributes.title) customTitle = expandTitleTemplate(matched.attributes.title, view);
  }
  const { variants, mainExceptionId } = computeVariants(view, fingerprint ?? ['{{ default }}'], matched);
  const hashes = orderHashes(variants);
  const { title, metadata, location, exceptionIndex } = computeTitle(view, mainExceptionId);
  if (customTitle) metadata.title = customTitle;
  if (view.dropped.length && Array.isArray(event.errors)) {
    for (const note of view.dropped) event.errors.push({ type: 'grouping', name: note.name, value: note.value });
  }
  return {
    config: GROUPING_CONFIG,
    hashes: hashes.length ? hashes : [EMPTY_HASH],
    variants,
    title: customTitle ?? title,
    culprit: computeCulprit(view),
    metadata,
    location,
    ...(exceptionIndex !== undefined ? { titleException: exceptionIndex } : {}),
    ...(Object.keys(info).length ? { fingerprintInfo: info } : {}),
  };
}

/**
 * Groups an event: returns its grouping hashes (preferred first), the variants they came from,
 * and the issue title, culprit and metadata. Never throws and never mutates the event, except to
 * append a `{type: 'grouping'}` note to `event.errors` when it had to skip malformed data.
 */
export function groupEvent(event: NormalizedEvent, options: GroupingOptions = {}): GroupingResult {
  try {
    return groupEventUnsafe(event, options);
  } catch (err) {
    // Defensive net: malformed input must still produce a group, never a failed event.
    const title = typeof event?.title === 'string' ? event.title : '<unlabeled event>';
    return {
      config: GROUPING_CONFIG,
      hashes: [EMPTY_HASH],
      variants: { fallback: { key: 'fallback', type: 'fallback', hash: EMPTY_HASH, description: 'fallback', contributes: true, hint: `grouping failed: ${(err as Error)?.message ?? String(err)}` } },
      title,
      culprit: null,
      metadata: { title },
    };
  }
}

/**
 * Whether an exception's value went into any of the result's hashes: some contributing variant
 * reaches a contributing `value` component through contributing components. When it did not,
 * events that differ only in that value get the same hashes (group.ts memoizes on that).
 */
export function valueContributes(result: GroupingResult): boolean {
  const reaches = (c: GroupingComponent): boolean =>
    c.contributes && (c.id === 'value' || c.values.some((v) => typeof v === 'object' && v !== null && reaches(v)));
  for (const v of Object.values(result.variants)) {
    if (v.type === 'fallback' && v.hint?.startsWith('grouping failed')) return true; // groupEvent's safety net titled it by hand
    if (v.contributes && v.component && reaches(v.component)) return true;
  }
  return false;
}
