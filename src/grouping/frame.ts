/**
 * The `frame:v1` strategy: turns one stack frame into a `frame` component with `module`,
 * `filename`, `function` and (for javascript/node/python/php/ruby) `context-line` children.
 *
 * Follows `src/sentry/grouping/strategies/newstyle.py` (get_filename_component,
 * get_module_component, get_function_component, get_contextline_component, frame) of 2025.
 * Also prepares frames the way Sentry's `normalize_stacktraces_for_grouping` does before grouping
 * (trimmed function names, stack trace rules, in_app defaulting to false) — on a copy, never on
 * the event. Leaves out line numbers, which newstyle never uses.
 */
import { type GroupingComponent, makeComponent, updateComponent } from './components.js';
import { behaviorFamily, trimFunctionName } from './functions.js';
import { classifyFrames, DEFAULT_RULES, type ExceptionData, type MatchFrame, type Rule } from './enhancements.js';

/** A frame as grouping sees it: plain strings, rule-adjusted in_app, never the event's object. */
export interface GroupingFrame {
  abs_path: string | null;
  filename: string | null;
  function: string | null;
  raw_function: string | null;
  module: string | null;
  package: string | null;
  platform: string | null;
  lineno: unknown;
  colno: unknown;
  context_line: string | null;
  inApp: boolean;
  clientInApp: boolean | null;
  inAppHint: string | null;
  /** What the stack trace rules set in_app to (null when no rule touched it). */
  ruleInApp: boolean | null;
  sourcemapUsed: boolean;
  match: MatchFrame;
}

/** Reads a string field defensively (non-strings count as missing). */
export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Characters of a frame field that stack trace rules match against (Relay's `max_chars = 256`, with slack). */
const MAX_FRAME_FIELD = 512;

/** A note about something grouping had to skip, pushed to `event.errors`. */
export interface DroppedNote {
  name: string;
  value: string;
}

/**
 * Prepares the frames of one stack trace for grouping: drops entries that are not objects
 * (reported in `dropped`), trims function names, and applies the built-in stack trace rules.
 */
export function prepareFrames(
  rawFrames: unknown,
  eventPlatform: string,
  exc: ExceptionData,
  path: string,
  dropped: DroppedNote[],
  rules: readonly Rule[] = DEFAULT_RULES,
): GroupingFrame[] {
  if (!Array.isArray(rawFrames)) return [];
  const frames: GroupingFrame[] = [];
  rawFrames.forEach((raw, i) => {
    if (!isRecord(raw)) {
      if (raw !== null && raw !== undefined) dropped.push({ name: `${path}.${i}`, value: 'frame is not an object' });
      return;
    }
    const platform = str(raw.platform);
    let fn = str(raw.function);
    let rawFn = str(raw.raw_function);
    // Sentry stores the trimmed name in `function` and keeps the original in `raw_function`.
    if (rawFn === null && fn) {
      const trimmed = trimFunctionName(fn, platform || eventPlatform);
      if (trimmed !== fn) {
        rawFn = fn;
        fn = trimmed;
      }
    }
    const clientInApp = typeof raw.in_app === 'boolean' ? raw.in_app : null;
    const absPath = str(raw.abs_path);
    const filename = str(raw.filename);
    const data = isRecord(raw.data) ? raw.data : null;
    const category = data ? str(data.category) : null;
    // Relay trims frame fields to 256 characters before rules see them; cap the match view likewise.
    const cap = (v: string | null) => (v !== null && v.length > MAX_FRAME_FIELD ? v.slice(0, MAX_FRAME_FIELD) : v);
    const lower = (v: string | null) => (v === null ? null : cap(v)!.toLowerCase().replace(/\\/g, '/'));
    frames.push({
      abs_path: absPath,
      filename,
      function: fn,
      raw_function: rawFn,
      module: str(raw.module),
      package: str(raw.package),
      platform,
      lineno: raw.lineno ?? null,
      colno: raw.colno ?? null,
      context_line: str(raw.context_line),
      inApp: false,
      clientInApp,
      inAppHint: null,
      ruleInApp: null,
      sourcemapUsed: !!data && data.sourcemap !== undefined && data.sourcemap !== null,
      match: {
        family: behaviorFamily(platform || eventPlatform),
        function: cap(fn) || '<unknown>',
        module: cap(str(raw.module)),
        package: lower(str(raw.package)),
        path: lower(absPath || filename),
        filename: lower(filename),
        inApp: clientInApp,
        category,
        paths: undefined,
        passes: undefined,
      },
    });
  });
  const classified = classifyFrames(
    frames.map((f) => f.match),
    exc,
    rules,
  );
  frames.forEach((f, i) => {
    const c = classified[i];
    f.ruleInApp = c.inApp;
    f.inApp = f.match.inApp === true;
    f.match.inApp = f.inApp;
    if (c.inApp !== null && c.inApp !== f.clientInApp) f.inAppHint = c.inAppHint;
  });
  return frames;
}

const BASENAME_RE = /[/\\]/;
const RUBY_ERB_RE = /__\d{4,}_\d{4,}$/;
const JAVA_REFLECT_RE = /(sun\.reflect\.Generated(?:Serialization)?ConstructorAccessor)\d+/g;
const JAVA_CGLIB_RE = /(\$\$[\w_]+?CGLIB\$\$)[a-fA-F0-9]+(_[0-9]+)?/g;
const JAVA_ASSIST_RE = /(\$\$_javassist)(?:_seam)?(?:_[0-9]+)?/g;
const CLOJURE_RE = /(\$fn__)\d+/g;
const JAVA_ENHANCER_BY_RE = /(\$\$?EnhancerBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?/g;
const JAVA_FAST_CLASS_BY_RE = /(\$\$?FastClassBy[\w_]+?\$?\$)[a-fA-F0-9]+(_[0-9]+)?/g;
const JAVA_HIBERNATE_RE = /(\$\$?HibernateProxy\$?\$)\w+(_[0-9]+)?/g;

/** True for http(s)/blob/applewebdata (and, if asked, file:) paths — Sentry's `has_url_origin`. */
export function hasUrlOrigin(path: string | null, filesCountAsUrls: boolean): boolean {
  if (!path) return false;
  if (/^(http:|https:|applewebdata:|blob:)/.test(path)) return true;
  return path.startsWith('file:') ? filesCountAsUrls : false;
}

function filenameComponent(f: GroupingFrame, platform: string | null): GroupingComponent {
  if (f.filename === null) return makeComponent('filename');
  const parts = f.filename.split(BASENAME_RE);
  const filename = parts[parts.length - 1].toLowerCase();
  const c = makeComponent('filename', [filename]);
  if (hasUrlOrigin(f.abs_path, false)) updateComponent(c, { contributes: false, hint: 'ignored because frame points to a URL' });
  else if (filename === '<anonymous>') updateComponent(c, { contributes: false, hint: 'ignored because filename is anonymous' });
  else if (filename === '[native code]') updateComponent(c, { contributes: false, hint: 'ignored because filename suggests native code' });
  else if (platform === 'java') {
    const cleaned = filename.replace(JAVA_ASSIST_RE, '$1<auto>');
    if (cleaned !== filename) updateComponent(c, { values: [cleaned], hint: 'cleaned javassist parts' });
  }
  return c;
}

function moduleComponent(f: GroupingFrame, platform: string | null): GroupingComponent {
  const module = f.module;
  if (module === null) return makeComponent('module');
  const c = makeComponent('module', [module]);
  if (platform === 'javascript' && module.includes('/') && f.abs_path && f.abs_path.endsWith(module)) {
    updateComponent(c, { contributes: false, hint: 'ignored bad javascript module' });
  } else if (platform === 'java') {
    if (module.includes('$$Lambda$')) updateComponent(c, { contributes: false, hint: 'ignored java lambda' });
    if (module.startsWith('sun.reflect.GeneratedMethodAccessor')) {
      updateComponent(c, { values: ['sun.reflect.GeneratedMethodAccessor'], hint: 'removed reflection marker' });
    } else if (module.startsWith('jdk.internal.reflect.GeneratedMethodAccessor')) {
      updateComponent(c, { values: ['jdk.internal.reflect.GeneratedMethodAccessor'], hint: 'removed reflection marker' });
    } else {
      const cleaned = [JAVA_REFLECT_RE, JAVA_CGLIB_RE, JAVA_ASSIST_RE, CLOJURE_RE, JAVA_ENHANCER_BY_RE, JAVA_FAST_CLASS_BY_RE, JAVA_HIBERNATE_RE].reduce(
        (m, re) => m.replace(re, '$1<auto>'),
        module,
      );
      if (cleaned !== module) updateComponent(c, { values: [cleaned], hint: 'removed codegen marker' });
    }
  }
  return c;
}

function functionComponent(f: GroupingFrame, platform: string | null, contextLineAvailable: boolean): GroupingComponent {
  // C# frames group by the untrimmed name (Sentry started trimming C# names late).
  let func: string | null;
  if (platform === 'csharp') func = f.raw_function || f.function;
  else {
    func = f.function || f.raw_function;
    if (!f.raw_function && f.function) func = trimFunctionName(f.function, platform);
  }
  if (!func) return makeComponent('function');
  const c = makeComponent('function', [func]);
  const family = behaviorFamily(platform);
  if (platform === 'ruby') {
    if (func.startsWith('block ')) updateComponent(c, { values: ['block'], hint: 'ruby block' });
    else {
      const cleaned = func.replace(RUBY_ERB_RE, '');
      if (cleaned !== func) updateComponent(c, { values: [cleaned], hint: 'removed generated erb template suffix' });
    }
  } else if (platform === 'php') {
    if (func.startsWith('[Anonymous') || func.startsWith('class@anonymous\x00')) {
      updateComponent(c, { contributes: false, hint: 'ignored anonymous function' });
    }
    if (func.startsWith('class@anonymous')) {
      const method = func.slice(func.lastIndexOf('::') >= 0 ? func.lastIndexOf('::') + 2 : 0);
      if (method !== func) updateComponent(c, { values: [method], hint: 'anonymous class method' });
    }
  } else if (platform === 'java') {
    if (func.startsWith('lambda$')) updateComponent(c, { contributes: false, hint: 'ignored lambda function' });
  } else if (family === 'native') {
    if (func === '<redacted>' || func === '<unknown>') updateComponent(c, { contributes: false, hint: 'ignored unknown function' });
  } else if (family === 'javascript') {
    const trimmed = func.slice(func.lastIndexOf('.') + 1);
    if (trimmed !== func) updateComponent(c, { values: [trimmed], hint: 'trimmed javascript function' });
    if (f.sourcemapUsed && contextLineAvailable) {
      updateComponent(c, { contributes: false, hint: 'ignored because sourcemap used and context line available' });
    }
  }
  return c;
}

/** How many code points `text` has (a surrogate pair is one, a lone surrogate one), without an array of them. */
function codePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++, n++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

function contextLineComponent(f: GroupingFrame, platform: string | null): GroupingComponent {
  const raw = f.context_line ?? '';
  // Runs of whitespace as one space, none at the ends (JavaScript's \s is the set trim() removes).
  const line = raw.replace(/\s+/g, ' ').trim();
  if (!line) return makeComponent('context-line');
  const c = makeComponent('context-line', [line]);
  // Sentry counts code points; a line of at most 120 UTF-16 units has at most 120.
  if (raw.length > 120 && codePoints(raw) > 120) {
    updateComponent(c, { contributes: false, hint: 'ignored because line is too long' });
  } else if (behaviorFamily(platform) === 'javascript' && !f.function && hasUrlOrigin(f.abs_path, true)) {
    updateComponent(c, { contributes: false, hint: 'ignored because file path is a URL and function name is missing' });
  }
  return c;
}

/** Platforms whose source context is trusted enough to group by (Sentry's `contextline_platforms`). */
export const CONTEXTLINE_PLATFORMS = new Set(['javascript', 'node', 'python', 'php', 'ruby']);

/** Builds the `frame` component of one frame (Sentry's `frame:v1`). */
export function frameComponent(f: GroupingFrame, eventPlatform: string): GroupingComponent {
  const platform = f.platform || eventPlatform || null;
  const filename = filenameComponent(f, platform);
  const module = moduleComponent(f, platform);
  if (module.contributes && filename.contributes) {
    updateComponent(filename, { contributes: false, hint: 'ignored because module takes precedence' });
  }
  const contextLine = f.context_line && platform && CONTEXTLINE_PLATFORMS.has(platform) ? contextLineComponent(f, platform) : null;
  const func = functionComponent(f, platform, !!contextLine?.contributes);
  const values = [module, filename, func];
  if (contextLine) values.push(contextLine);
  const frame = makeComponent('frame', values);

  if (behaviorFamily(platform) === 'javascript') {
    let name = f.raw_function || f.function;
    if (name) name = name.slice(name.lastIndexOf('.') + 1);
    if (!name) updateComponent(func, { contributes: false });
    else if (['?', '<anonymous function>', '<anonymous>', 'Anonymous function'].includes(name) || name.endsWith('/<')) {
      updateComponent(func, { contributes: false, hint: 'ignored unknown function name' });
    }
    if (name === 'eval' || ['[native code]', 'native code', 'eval code', '<anonymous>'].includes(f.abs_path ?? '')) {
      updateComponent(frame, { contributes: false, hint: 'ignored low quality javascript frame' });
    }
  }
  // Like Sentry, `frame.contributes` is not recomputed after a child is switched off above: a JS
  // frame whose only child was its function still counts as contributing (with no values).
  return frame;
}
