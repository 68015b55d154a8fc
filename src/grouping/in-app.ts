/**
 * `applyInAppDefaults`: fills `frame.in_app` where the SDK left it unset, the way Sentry's
 * built-in stack trace rules (`all-platforms:2023-01-11`) would mark the frame, plus a few
 * well-known system locations SDKs usually flag themselves (Node internals, the Python standard
 * library, JDK / Android packages, webpack's runtime).
 *
 * Frames the SDK already marked are left alone, and frames nothing matches stay unset (Sentry
 * treats those as not in-app when grouping). Leaves out project-specific stack trace rules.
 */
import type { NormalizedEvent } from '../protocol/event.js';
import { framesChanged, inAppFlag, inAppFlags, isUnparsed } from '../protocol/index.js';
import { prepareFrames, str } from './frame.js';

// Node's own modules: `node:internal/...`, `internal/...`, `node:fs`, bare core module files.
const NODE_INTERNAL_RE = /^(node:|internal\/|\(?native\)?$)/;
// CPython's standard library (but not third-party packages installed next to it).
const PYTHON_STDLIB_RE = /(^|[/\\])(lib|Lib)[/\\]python\d+(\.\d+)*[/\\](?!.*(site|dist)-packages)/;
const JVM_SYSTEM_MODULE_RE = /^(java|javax|jdk|sun|com\.sun|android|androidx|dalvik|kotlin|kotlinx)\./;
const WEBPACK_INTERNAL_RE = /^webpack(:\/\/\/?|\/)(webpack\/|\(webpack\)|bootstrap)/;

function systemDefault(frame: Record<string, unknown>): boolean {
  const path = str(frame.abs_path) ?? str(frame.filename) ?? '';
  const module = str(frame.module) ?? '';
  return (
    NODE_INTERNAL_RE.test(path) ||
    PYTHON_STDLIB_RE.test(path) ||
    JVM_SYSTEM_MODULE_RE.test(module) ||
    WEBPACK_INTERNAL_RE.test(path) ||
    path.includes('/node_modules/') ||
    path.includes('\\node_modules\\')
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fillStack(stack: unknown, platform: string, exc: { type?: string | null; value?: string | null; mechanism?: string | null }): void {
  if (isUnparsed(stack) && stack.knownStack.allInApp) return; // known: the SDK decided every frame
  if (!isRecord(stack) || !Array.isArray(stack.frames)) return;
  const objects = stack.frames.filter(isRecord);
  if (objects.every((f) => typeof f.in_app === 'boolean')) return; // the SDK decided every frame
  const prepared = prepareFrames(objects, platform, exc, 'frames', []);
  objects.forEach((frame, i) => {
    if (typeof frame.in_app === 'boolean') return;
    const ruled = prepared[i]?.ruleInApp ?? null;
    const value = ruled ?? (systemDefault(frame) ? false : null);
    if (value === null) return;
    frame.in_app = value;
    framesChanged(stack.frames);
  });
}

/**
 * Fills `frame.in_app` where the SDK left it undefined/null, using Sentry's default rules
 * (node_modules, site-/dist-packages, vendor, Python stdlib, java.* / sun.* / javax.* / android.*,
 * Node internals, webpack internals, Sentry SDK and transpiler frames, native system libraries).
 * Mutates the event in place; never throws.
 */
export function applyInAppDefaults(event: NormalizedEvent): void {
  try {
    const platform = str(event.platform) ?? 'other';
    const exc = event.exception as unknown;
    if (isRecord(exc) && Array.isArray(exc.values)) {
      for (const e of exc.values) {
        if (!isRecord(e)) continue;
        const mechanism = isRecord(e.mechanism) ? str(e.mechanism.type) : null;
        fillStack(e.stacktrace, platform, { type: str(e.type), value: str(e.value), mechanism });
      }
    }
    fillStack(event.stacktrace, platform, {});
    const threads = event.threads as unknown;
    if (isRecord(threads) && Array.isArray(threads.values)) {
      for (const t of threads.values) if (isRecord(t)) fillStack(t.stacktrace, platform, {});
    }
  } catch {
    // Defaults are best effort; grouping still works without them.
  }
}

/**
 * Every stack trace with a frames list, in the order `applyInAppDefaults` visits them. A stack
 * whose frames are not parsed yet (protocol/frames-text.ts) is passed as it is: reading its
 * `frames` parses them.
 */
function forEachStack(event: NormalizedEvent, fn: (stack: { frames: unknown[] }) => void): void {
  const visit = (stack: unknown) => {
    if (isUnparsed(stack) || (isRecord(stack) && Array.isArray(stack.frames))) fn(stack as { frames: unknown[] });
  };
  const exc = event.exception as unknown;
  if (isRecord(exc) && Array.isArray(exc.values)) for (const e of exc.values) if (isRecord(e)) visit(e.stacktrace);
  visit(event.stacktrace);
  const threads = event.threads as unknown;
  if (isRecord(threads) && Array.isArray(threads.values)) for (const t of threads.values) if (isRecord(t)) visit(t.stacktrace);
}

/** The frame objects of every stack trace, in the order `applyInAppDefaults` visits them. */
function framesInOrder(event: NormalizedEvent): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  forEachStack(event, (stack) => {
    for (const f of stack.frames) if (isRecord(f)) out.push(f);
  });
  return out;
}

/** Every frame's `in_app` (protocol `inAppFlags`), to replay on an event with the same stacks. */
export function readInApp(event: NormalizedEvent): string {
  return inAppFlags(framesInOrder(event).map((f) => (typeof f.in_app === 'boolean' ? f.in_app : null)));
}

/** Sets `in_app` as `readInApp` recorded it on an event with the same stacks (same frames, same order). */
export function writeInApp(event: NormalizedEvent, values: string): void {
  let count = 0;
  forEachStack(event, (stack) => {
    count += isUnparsed(stack) ? stack.knownStack.inApp.length : stack.frames.filter(isRecord).length;
  });
  if (count !== values.length) return applyInAppDefaults(event);
  let i = 0;
  forEachStack(event, (stack) => {
    // A stack known from an earlier event keeps its frames unparsed when they already say so.
    if (isUnparsed(stack)) {
      const known = stack.knownStack.inApp;
      let same = true;
      for (let j = 0; j < known.length && same; j++) same = values.charCodeAt(i + j) === 0x6e /* n: unset */ || values.charCodeAt(i + j) === known.charCodeAt(j);
      if (same) {
        i += known.length;
        return;
      }
    }
    let changed = false;
    for (const f of stack.frames) {
      if (!isRecord(f)) continue;
      const v = inAppFlag(values, i++);
      if (v === null || f.in_app === v) continue;
      f.in_app = v;
      changed = true;
    }
    if (changed) framesChanged(stack.frames);
  });
}
