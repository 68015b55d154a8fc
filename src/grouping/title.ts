/**
 * Issue title, culprit, location and metadata (what the issue stream shows).
 *
 * Follows `src/sentry/eventtypes/error.py` (extract_metadata, compute_title), `eventtypes/base.py`
 * (DefaultEvent) and `src/sentry/culprit.py` (generate_culprit, get_frame_culprit). One deliberate
 * difference: an exception with a value but no type (what @sentry/node 11's `captureMessage`
 * sends) is titled by its value alone instead of Sentry's "Error: value". Leaves out Sentry's
 * per-type titles for security reports beyond a short summary.
 */
import { crashFrame, type EventView } from './event-view.js';
import { str, type GroupingFrame } from './frame.js';
import { functionNameForFrame } from './functions.js';

const MAX_CULPRIT_LENGTH = 200;

/** Sentry's `truncatechars`: cut to `length` characters, ending in "...". */
export function truncateChars(value: string, length: number): string {
  const chars = Array.from(value);
  return chars.length > length ? chars.slice(0, length - 3).join('') + '...' : value;
}

function firstLine(value: string): string {
  return value.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/)[0] ?? '';
}

function frameCulprit(frame: GroupingFrame, platform: string): string {
  const p = frame.platform || platform;
  if (p === 'objc' || p === 'cocoa' || p === 'native') return frame.function || '?';
  const fileloc = frame.module || frame.filename;
  if (!fileloc) return '';
  if (p === 'javascript' || p === 'node') return `${frame.function || '?'}(${fileloc})`;
  return `${fileloc} in ${frame.function || '?'}`;
}

function stacktraceCulprit(frames: GroupingFrame[], platform: string): string | null {
  let fallback: string | null = null;
  for (const frame of [...frames].reverse()) {
    if (frame.inApp) {
      const c = frameCulprit(frame, platform);
      if (c) return c;
    } else if (fallback === null) {
      fallback = frameCulprit(frame, platform);
    }
  }
  return fallback;
}

/** The culprit: the transaction if set, else the crashing in-app frame, else the request URL. */
export function computeCulprit(view: EventView): string {
  const transaction = str(view.event.transaction);
  if (transaction) return transaction;
  let stacks: GroupingFrame[][] = [];
  if (view.exceptions.length) {
    const last = view.exceptions[view.exceptions.length - 1];
    if (last.mechanism?.synthetic) return '';
    stacks = view.exceptions.filter((e) => e.frames?.length).map((e) => e.frames!);
  } else if (view.stacktrace?.length) {
    stacks = [view.stacktrace];
  }
  let culprit = stacks.length ? stacktraceCulprit(stacks[stacks.length - 1], view.platform) : null;
  if (!culprit) {
    const request = view.event.request;
    culprit = request && typeof request === 'object' ? str(request.url) : null;
  }
  return truncateChars(culprit ?? '', MAX_CULPRIT_LENGTH);
}

function inAppFrameMix(view: EventView): string | undefined {
  const frames = view.exceptions.flatMap((e) => e.frames ?? []);
  if (frames.length === 0) return undefined;
  const inApp = frames.filter((f) => f.inApp).length;
  return inApp === frames.length ? 'in-app-only' : inApp === 0 ? 'system-only' : 'mixed';
}

/** `metadata.value` of an exception event: its main exception's value. */
export function exceptionMetadataValue(value: string | null): string {
  return truncateChars(value ?? '', 1024);
}

/** The title of an exception event, from its main exception's type and value and its metadata's type and function. */
export function exceptionTitle(type: string | null, value: string | null, metadata: Record<string, unknown>): string {
  let title: string | null = null;
  // An exception with a value and no type is how @sentry/node 11 sends captureMessage (a
  // synthetic exception carrying the message): the message is the useful title, not the
  // crashing function Sentry would show for synthetic exceptions.
  if (!type && value) title = truncateChars(firstLine(value), 100);
  else if (typeof metadata.type === 'string') {
    title = metadata.type;
    if (value) title += `: ${truncateChars(firstLine(value), 100)}`;
  }
  return title || (metadata.function as string | undefined) || '<unknown>';
}

/** Title, metadata and location of an event, as Sentry's event types compute them. */
export function computeTitle(
  view: EventView,
  mainExceptionId: number | null,
): { title: string; metadata: Record<string, unknown>; location: string | null; exceptionIndex?: number } {
  if (view.exceptions.length) {
    const byId = mainExceptionId ? view.exceptions.findIndex((e) => e.mechanism?.exception_id === mainExceptionId) : -1;
    const exceptionIndex = byId >= 0 ? byId : view.exceptions.length - 1;
    const exc = view.exceptions[exceptionIndex];
    const metadata: Record<string, unknown> = { value: exceptionMetadataValue(exc.value) };
    if (!exc.mechanism?.synthetic) metadata.type = truncateChars(exc.type || 'Error', 128);
    const frame = crashFrame(view, (f) => !!f.function && f.function !== '<redacted>' && f.function !== '<unknown>');
    if (frame) {
      const filename = frame.filename || frame.abs_path;
      const fn = functionNameForFrame(frame, view.platform);
      if (filename) metadata.filename = filename;
      if (fn) metadata.function = fn;
    }
    const mix = inAppFrameMix(view);
    if (mix) metadata.in_app_frame_mix = mix;
    return { title: exceptionTitle(exc.type, exc.value, metadata), metadata, location: (metadata.filename as string | undefined) ?? null, exceptionIndex };
  }
  const csp = view.event.csp as Record<string, unknown> | undefined;
  if (csp && typeof csp === 'object') {
    const directive = str(csp.effective_directive) ?? 'unknown';
    const uri = str(csp.blocked_uri) ?? '';
    const title = `Blocked '${directive.replace(/-src$/, '')}' from '${uri || 'self'}'`;
    return { title, metadata: { title, directive, uri }, location: str(csp.document_uri) };
  }
  for (const [key, name] of [['hpkp', 'HPKP'], ['expectct', 'Expect-CT'], ['expectstaple', 'Expect-Staple']] as const) {
    const report = view.event[key] as Record<string, unknown> | undefined;
    if (report && typeof report === 'object') {
      const title = `${name} failed for ${str(report.hostname) ?? 'unknown'}`;
      return { title, metadata: { title }, location: str(report.hostname) };
    }
  }
  const message = (view.logentry?.formatted || view.logentry?.message || '').trim();
  const title = message ? truncateChars(firstLine(message), 100) : '<unlabeled event>';
  return { title, metadata: { title }, location: null };
}
