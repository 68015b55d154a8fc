/**
 * Server-side fingerprinting rules ("Fingerprint Rules" in project settings) and Sentry's built-in
 * JavaScript rules (`javascript@2024-02-02`: ChunkLoadError, React hydration errors).
 *
 * Follows `src/sentry/grouping/fingerprinting/` (the parsimonious grammar, FingerprintMatcher,
 * EventDatastore): `matcher:value … -> part, {{ var }}, … title="…"`, first matching rule wins,
 * project rules before built-in ones. Leaves out the JSON round-trip Sentry uses for caching.
 */
import { globMatch, pathMatch } from './glob.js';
import { allFrames, type EventView } from './event-view.js';
import { behaviorFamily } from './functions.js';
import { str } from './frame.js';
import { DEFAULT_FINGERPRINT_VARIABLE, parseFingerprintVariable } from './fingerprint.js';

/** A rules text that cannot be parsed; `line`/`column` are 1-based. */
export class GroupingRulesError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'GroupingRulesError';
  }
}

/** One condition of a rule, e.g. `!error.type:"Foo*"`. */
export interface FingerprintMatcher {
  key: string;
  pattern: string;
  negated: boolean;
}

/** One parsed rule. */
export interface FingerprintRule {
  matchers: FingerprintMatcher[];
  fingerprint: string[];
  attributes: { title?: string };
  isBuiltin: boolean;
  /** Sentry's canonical rule text, stored as `_fingerprint_info.matched_rule.text`. */
  text: string;
}

const MATCHERS: Record<string, string> = {
  'error.type': 'type',
  'error.value': 'value',
  'stack.module': 'module',
  'stack.abs_path': 'path',
  'stack.package': 'package',
  'stack.function': 'function',
  message: 'message',
  logger: 'logger',
  level: 'level',
  type: 'type',
  value: 'value',
  module: 'module',
  path: 'path',
  package: 'package',
  function: 'function',
  family: 'family',
  app: 'app',
  sdk: 'sdk',
  release: 'release',
};

function unescapeString(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, e: string) => {
    if (e[0] === 'u' || e[0] === 'x') return e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : e;
    return ({ n: '\n', t: '\t', r: '\r', '0': '\0' } as Record<string, string>)[e] ?? e;
  });
}

const QUOTED = /"([^"\\]*(?:\\.[^"\\]*)*)"/y;

function ruleText(r: Omit<FingerprintRule, 'text'>): string {
  const matchers = r.matchers.map((m) => `${m.negated ? '!' : ''}${m.key}:"${m.pattern}"`).join(' ');
  const attrs = Object.entries(r.attributes)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ');
  return `${matchers} -> "${r.fingerprint.join('')}" ${attrs}`.trimEnd();
}

function parseLine(line: string, lineNo: number, isBuiltin: boolean): FingerprintRule | null {
  let pos = 0;
  const fail = (why?: string): never => {
    let context = line.slice(pos, pos + 33);
    if (context.length === 33) context = context.slice(0, -1) + '...';
    throw new GroupingRulesError(why ?? `Invalid syntax near "${context}" (line ${lineNo}, column ${pos + 1})`, lineNo, pos + 1);
  };
  const spaces = () => {
    while (line[pos] === ' ') pos++;
  };
  const quoted = (): string | null => {
    QUOTED.lastIndex = pos;
    const m = QUOTED.exec(line);
    if (!m) return null;
    pos = QUOTED.lastIndex;
    return unescapeString(m[1]);
  };
  spaces();
  if (pos === line.length || line[pos] === '#') return null;
  const matchers: FingerprintMatcher[] = [];
  for (;;) {
    spaces();
    if (line.startsWith('->', pos) && matchers.length) break;
    const negated = line[pos] === '!';
    if (negated) pos++;
    let key: string | null;
    if (line[pos] === '"') {
      const m = /^"([a-zA-Z0-9_.:-]+)"/.exec(line.slice(pos));
      key = m ? m[1].replace(/^!+/, '') : null;
      if (m) pos += m[0].length;
    } else {
      const m = /^[a-zA-Z0-9_.-]+/.exec(line.slice(pos));
      key = m ? m[0] : null;
      if (m) pos += m[0].length;
    }
    if (!key || line[pos] !== ':') fail();
    pos++;
    let pattern = line[pos] === '"' ? quoted() : null;
    if (pattern === null) {
      const m = /^\S+/.exec(line.slice(pos));
      if (!m) fail();
      pattern = m![0];
      pos += pattern.length;
    }
    const mapped = key!.startsWith('tags.') ? key! : MATCHERS[key!];
    if (!mapped) fail(`Unknown matcher '${key}'`);
    matchers.push({ key: mapped, pattern, negated });
  }
  pos += 2;
  const fingerprint: string[] = [];
  const attributes: { title?: string } = {};
  for (;;) {
    spaces();
    if (pos >= line.length) break;
    const attr = /^([a-zA-Z0-9_.-]+)=(?=")/.exec(line.slice(pos));
    if (attr) {
      pos += attr[0].length;
      const value = quoted();
      if (value === null) fail();
      if (attr[1] !== 'title') fail(`Unknown attribute '${attr[1]}'`);
      attributes.title = value!;
    } else if (line[pos] === '"') {
      const value = quoted();
      if (value === null) fail();
      fingerprint.push(value!);
    } else {
      const m = /^(?:\{\{\s*\S+\s*\}\}|[^\s{,]+)/.exec(line.slice(pos));
      if (!m) fail();
      pos += m![0].length;
      fingerprint.push(parseFingerprintVariable(m![0]) === 'default' ? DEFAULT_FINGERPRINT_VARIABLE : m![0]);
    }
    spaces();
    if (line[pos] === ',') pos++;
  }
  if (fingerprint.length === 0 && !attributes.title) fail();
  const rule = { matchers, fingerprint, attributes, isBuiltin };
  return { ...rule, text: ruleText(rule) };
}

/**
 * Parses fingerprinting rules text (one rule per line, `#` comments). Throws
 * {@link GroupingRulesError} with the line number and reason on bad syntax.
 */
export function parseFingerprintingRules(text: string, isBuiltin = false): FingerprintRule[] {
  const rules: FingerprintRule[] = [];
  (text ?? '').split(/\r\n|\r|\n/).forEach((line, i) => {
    const rule = parseLine(line, i + 1, isBuiltin);
    if (rule) rules.push(rule);
  });
  return rules;
}

const BUILTIN_RULES = parseFingerprintingRules(
  [
    'family:javascript error.type:"ChunkLoadError" -> chunkloaderror',
    'family:javascript error.value:"ChunkLoadError*" -> chunkloaderror',
    ...[
      'Hydration failed because the initial UI does not match what was rendered on the server.',
      'The server could not finish this Suspense boundary, likely due to an error during server rendering. Switched to client rendering.',
      'There was an error while hydrating this Suspense boundary. Switched to client rendering.',
      'There was an error while hydrating. Because the error happened outside of a Suspense boundary, the entire root will switch to client rendering.',
      'Text content does not match server-rendered HTML.',
    ].map((m) => `family:javascript tags.transaction:"*" message:"${m}" -> hydrationerror, {{tags.transaction}}`),
  ].join('\n'),
  true,
);

type Values = Record<string, unknown>;

function matchType(key: string): string {
  if (key === 'message') return 'toplevel';
  if (key === 'logger' || key === 'level') return 'log_info';
  if (key === 'type' || key === 'value') return 'exceptions';
  if (key.startsWith('tags.')) return 'tags';
  if (key === 'sdk' || key === 'family' || key === 'release') return key;
  return 'frames';
}

function valuesFor(type: string, view: EventView): Values[] {
  const e = view.event;
  switch (type) {
    case 'toplevel':
      return [...valuesFor('messages', view), ...valuesFor('exceptions', view)];
    case 'messages':
      return view.logentry?.formatted ? [{ message: view.logentry.formatted.trim() }] : [];
    case 'exceptions':
      return view.exceptions.map((x) => ({ type: x.type, value: x.value ? x.value.trim() : null }));
    case 'log_info': {
      const info: Values = {};
      if (str(e.logger)) info.logger = e.logger;
      if (str(e.level)) info.level = e.level;
      return Object.keys(info).length ? [info] : [];
    }
    case 'tags':
      return [Object.fromEntries(view.tags.map(([k, v]) => [`tags.${k}`, v ? v.trim() : null]))];
    case 'sdk':
      return [{ sdk: (e.sdk && str(e.sdk.name)) || 'other' }];
    case 'family':
      return [{ family: behaviorFamily(view.platform) }];
    case 'release':
      return [{ release: str(e.release) ? (e.release as string).trim() : null }];
    default:
      return allFrames(view).map((f) => ({
        function: f.function || '<unknown>',
        abs_path: f.abs_path || f.filename,
        filename: f.filename,
        module: f.module,
        package: f.package,
        app: f.inApp,
      }));
  }
}

function positiveMatch(m: FingerprintMatcher, values: Values): boolean {
  const get = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : null);
  if (m.key === 'path') return [...new Set([get('abs_path'), get('filename')])].some((v) => v !== null && pathMatch(v, m.pattern));
  if (m.key === 'message') return [get('message'), get('value')].some((v) => v !== null && globMatch(v, m.pattern, { ignoreCase: true }));
  const value = values[m.key];
  if (value === null || value === undefined) return false;
  if (m.key === 'app') {
    const p = m.pattern.toLowerCase();
    const ref = ['1', 'yes', 'true'].includes(p) ? true : ['0', 'no', 'false'].includes(p) ? false : null;
    return value === ref;
  }
  if (typeof value !== 'string') return false;
  if (m.key === 'package' || m.key === 'release') return pathMatch(value, m.pattern);
  if (m.key === 'family' || m.key === 'sdk') {
    const flags = m.pattern.split(',');
    return flags.includes('all') || flags.includes(value);
  }
  return globMatch(value, m.pattern, { ignoreCase: m.key === 'level' || m.key === 'value' });
}

/** Per rule: its matchers grouped by the kind of values they read (computed once). */
const matchersByType = new WeakMap<FingerprintRule, Map<string, FingerprintMatcher[]>>();

/** How much reading a kind of values costs (`valuesFor`), roughly: frames and tags the most. */
function valuesCost(type: string): number {
  if (type === 'family' || type === 'sdk' || type === 'release' || type === 'log_info') return 0;
  if (type === 'tags') return 2;
  if (type === 'toplevel' || type === 'messages' || type === 'exceptions') return 1;
  return 3; // frames
}

function ruleMatches(rule: FingerprintRule, view: EventView, values: (type: string) => Values[]): boolean {
  let byType = matchersByType.get(rule);
  if (!byType) {
    byType = new Map();
    // Cheapest values first: a rule fails at its first kind of values that no entry matches, and
    // most events fail the built-in rules on their family or message before their tags (a record of
    // every tag) or frames are read. The order changes no answer: every kind must match.
    const kinds = [...new Set(rule.matchers.map((m) => matchType(m.key)))].sort((a, b) => valuesCost(a) - valuesCost(b));
    for (const t of kinds) byType.set(t, []);
    for (const m of rule.matchers) byType.get(matchType(m.key))!.push(m);
    matchersByType.set(rule, byType);
  }
  for (const [type, matchers] of byType) {
    const ok = values(type).some((v) => matchers.every((m) => positiveMatch(m, v) !== m.negated));
    if (!ok) return false;
  }
  return true;
}

/** The first rule (project rules, then built-ins) matching the event, or null. */
export function matchFingerprintRule(projectRules: FingerprintRule[], view: EventView): FingerprintRule | null {
  // Each kind of values is read from the event once for all rules.
  const cache = new Map<string, Values[]>();
  const values = (type: string) => {
    let v = cache.get(type);
    if (!v) cache.set(type, (v = valuesFor(type, view)));
    return v;
  };
  for (const rules of [projectRules, BUILTIN_RULES]) for (const rule of rules) if (ruleMatches(rule, view, values)) return rule;
  return null;
}
