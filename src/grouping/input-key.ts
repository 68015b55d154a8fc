/**
 * A digest of exactly the parts of an event that grouping reads, so a caller can reuse the
 * result of `groupEvent` for the next event with the same stack, message and fingerprint (most
 * events repeat an issue's stack; grouping it again is the costliest step of processing).
 *
 * Frames contribute only the fields `prepareFrames` reads (never source context or locals);
 * breadcrumbs, contexts, user, tags, release and timestamps never contribute. Returns null when
 * the result may depend on more than that: server fingerprinting rules (they match tags, sdk,
 * release, …) and fingerprint variables other than `{{ default }}` (they read level, logger,
 * tags, …). Keep in step with event-view.ts, frame.ts, strategies.ts, title.ts and fingerprint.ts.
 */
import { hash } from 'node:crypto';
import type { NormalizedEvent } from '../protocol/event.js';
import { keptText } from '../protocol/index.js';
import { REACT_ERRORS_WITH_CAUSE } from './exception.js';
import { parseFingerprintVariable } from './fingerprint.js';
import type { GroupingOptions } from './index.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `String.prototype.isWellFormed` (Node 20; not yet in this project's TypeScript library). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * One value as a self-delimiting token: strings carry their length, so no content can pass for a
 * boundary. Frames are written this way instead of through `JSON.stringify`, which scans every
 * character of every string for escapes (about a third of the digest's cost for a 30-frame stack).
 * null and undefined are one token, as they are one in JSON.
 */
function token(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return `s${v.length}:${v}`;
    case 'number':
      return `d${v};`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'undefined':
      return 'n';
    default: {
      if (v === null) return 'n';
      const json = JSON.stringify(v) ?? 'null';
      return `j${json.length}:${json}`;
    }
  }
}

/** The frame fields grouping reads (frame.ts `prepareFrames`). */
function frameKey(raw: unknown): string {
  if (!isRecord(raw)) return `x${token(raw)}`;
  const data = isRecord(raw.data) ? raw.data : null;
  return (
    'F' +
    token(raw.platform) +
    token(raw.function) +
    token(raw.raw_function) +
    token(raw.in_app) +
    token(raw.abs_path) +
    token(raw.filename) +
    token(raw.module) +
    token(raw.package) +
    token(raw.lineno) +
    token(raw.colno) +
    token(raw.context_line) +
    (data ? `D${token(data.category)}${data.sourcemap !== undefined && data.sourcemap !== null ? 't' : 'f'}` : 'n')
  );
}

function stackKey(stack: unknown): string {
  if (!isRecord(stack)) return `S${token(stack)}`;
  // Frames no step has changed since parsing are exactly what the client's text of them says
  // (protocol/frames-text.ts): the text's SHA-256, where it has one, stands for them, without a
  // token per field and without parsing a stack known from an earlier event.
  const kept = keptText(stack);
  if (kept?.hash) return `H${kept.hash}`;
  return Array.isArray(stack.frames) ? `L${stack.frames.length}:${stack.frames.map(frameKey).join('')}` : `G${token(stack.frames)}`;
}

/**
 * A container's entries with their stack trace reduced to frame keys (`raw_stacktrace` is never
 * read). With `valueShape`, a string `value` stands only for whether it is empty.
 */
function valuesKey(container: unknown, valueShape = false): string {
  if (!isRecord(container) || !Array.isArray(container.values)) return `C${token(container)}`;
  let out = `V${container.values.length}:`;
  for (const v of container.values) {
    if (!isRecord(v)) {
      out += `x${token(v)}`;
      continue;
    }
    const { stacktrace, raw_stacktrace: _raw, ...rest } = v;
    if (valueShape && typeof rest.value === 'string') rest.value = rest.value === '' ? '' : 1;
    out += `E${token(rest)}${stackKey(stacktrace)}`;
  }
  return out;
}

/**
 * Whether the event's grouping may be looked up by {@link groupingInputKey} with `ignoreValue`:
 * its exceptions are objects whose values are strings or absent, no stack trace rule reads
 * `error.value`, and nothing else lets a message decide: no exception group (its members are told
 * apart by their messages) and no React error whose message makes its cause the main exception.
 */
export function valueMayBeIgnored(event: NormalizedEvent, options: GroupingOptions = {}): boolean {
  const exc = event.exception as unknown;
  if (!isRecord(exc) || !Array.isArray(exc.values) || exc.values.length === 0) return false;
  for (const v of exc.values) {
    if (!isRecord(v)) return false;
    if (v.value !== undefined && v.value !== null && typeof v.value !== 'string') return false;
    if (typeof v.value === 'string' && REACT_ERRORS_WITH_CAUSE.includes(v.value)) return false;
    if (isRecord(v.mechanism) && v.mechanism.is_exception_group) return false;
  }
  return !options.stacktraceRules?.includes('error.value');
}

function cacheableFingerprint(fp: unknown): boolean {
  if (!Array.isArray(fp)) return true;
  return fp.every((v) => typeof v !== 'string' || !v.includes('{{') || parseFingerprintVariable(v) === 'default');
}

/**
 * The grouping input digest of `event` under `options`, or null when the event must be grouped
 * on its own. Two events with the same digest get the same hashes, title, culprit and metadata.
 * With `ignoreValue` (only where {@link valueMayBeIgnored}), the exception's value is left out:
 * such a digest stands for the same hashes only if the value did not contribute to them, and the
 * title and `metadata.value` must be worked out from the event's own value.
 */
export function groupingInputKey(event: NormalizedEvent, options: GroupingOptions = {}, ignoreValue = false): string | null {
  if (options.fingerprintingRules && options.fingerprintingRules.trim() !== '') return null;
  if (!cacheableFingerprint(event.fingerprint)) return null;
  const sdk = isRecord(event.sdk) ? event.sdk : null;
  const request = isRecord(event.request) ? event.request : null;
  const text = JSON.stringify([
    options.stacktraceRules ?? '',
    event.platform,
    event.platform === 'python' ? (sdk?.version ?? null) : null,
    event.transaction ?? null,
    request?.url ?? null,
    event.checksum ?? null,
    event.fingerprint ?? null,
    event.logentry ?? null,
    event.template ?? null,
    event.csp ?? null,
    event.hpkp ?? null,
    event.expectct ?? null,
    event.expectstaple ?? null,
    ignoreValue ? 'value-shape' : null,
  ]);
  const stacks = valuesKey(event.exception, ignoreValue) + stackKey(event.stacktrace) + valuesKey(event.threads);
  // Hashed as UTF-8, which writes every lone surrogate as U+FFFD: such text (rare, and only from a
  // client) is hashed as JSON instead, where it is escaped, so it cannot share a digest.
  const whole = `${text.length}:${text}${stacks}`;
  return hash('sha1', isWellFormed(whole) ? whole : JSON.stringify(whole));
}
