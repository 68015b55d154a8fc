/**
 * Stack trace rules ("enhancements"): the built-in `all-platforms:2023-01-11` rules that mark frames
 * in-app / out-of-app, categorize them and make them (not) contribute to grouping, plus
 * `applyInAppDefaults`.
 *
 * Follows Sentry's `src/sentry/grouping/enhancer/` (matchers.py, actions.py, rules.py and the
 * pre-Rust `__init__.py`): rules apply in order and later ones win; `^` acts on the frames after
 * the match (toward the crash), `v` on the frames before it. Classifier actions (`+app`, `-app`,
 * `category=`) run first over the whole stack; contribution actions (`+group`, `-group`,
 * `max-frames`, `min-frames`) run when the stacktrace component is assembled. Project rules are
 * parsed strictly by `stacktrace-rules.ts` and run after these. Leaves out `invert-stacktrace`
 * (accepted, but it only affects display).
 */
import { LRUCache } from 'lru-cache';
import { ALL_PLATFORMS_2023_01_11 } from './default-enhancements.js';
import { globToRegExp, MAX_MATCH_CHARS } from './glob.js';
import { type GroupingComponent, updateComponent } from './components.js';

/** The values a rule can look at for one frame (Sentry's `create_match_frame`). */
export interface MatchFrame {
  family: string;
  function: string;
  module: string | null;
  package: string | null;
  path: string | null;
  filename: string | null;
  inApp: boolean | null;
  category: string | null;
  /**
   * What the matchers worked out for this frame object, kept on it rather than in WeakMaps: a
   * WeakMap entry per frame of every new stack cost more to add, and to collect, than the work
   * it saved (the profile of a 10,000-issue drain).
   */
  paths?: Partial<Record<'path' | 'package' | 'filename', string>>;
  passes?: number[];
}

/** Exception fields visible to `error.type` / `error.value` / `error.mechanism` matchers. */
export interface ExceptionData {
  type?: string | null;
  value?: string | null;
  mechanism?: string | null;
}

/** One matcher of a rule. */
export interface Matcher {
  key: string;
  pattern: string;
  negated: boolean;
  /** -1: caller (frame before), +1: callee (frame after), 0: the frame itself. */
  offset: -1 | 0 | 1;
}

/** One action of a rule. */
export type Action =
  | { kind: 'flag'; key: 'app' | 'group'; flag: boolean; range: 'up' | 'down' | null }
  | { kind: 'var'; name: string; value: string };

/** A parsed stack trace rule. */
export interface Rule {
  matchers: Matcher[];
  actions: Action[];
  description: string;
}

/** Matcher names (and their aliases) mapped to the frame field they read. */
export const MATCHER_KEYS: Record<string, string> = {
  'stack.module': 'module',
  'stack.abs_path': 'path',
  'stack.package': 'package',
  'stack.function': 'function',
  'stack.filename': 'filename',
  'error.type': 'type',
  'error.value': 'value',
  'error.mechanism': 'mechanism',
  module: 'module',
  path: 'path',
  package: 'package',
  function: 'function',
  category: 'category',
  family: 'family',
  app: 'app',
};
const EXCEPTION_KEYS = new Set(['type', 'value', 'mechanism']);

function tokenize(line: string): string[] {
  const tokens: string[] = [];
  const re = /"(?:[^"\\]|\\.)*"|[^\s"]+(?:"(?:[^"\\]|\\.)*")?/g;
  for (const m of line.matchAll(re)) tokens.push(m[0]);
  return tokens;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

function parseMatcher(token: string, offset: -1 | 0 | 1): Matcher | null {
  let t = token;
  const negated = t.startsWith('!');
  if (negated) t = t.slice(1);
  const sep = t.indexOf(':');
  if (sep <= 0) return null;
  const key = MATCHER_KEYS[t.slice(0, sep)];
  if (!key) return null;
  return { key, pattern: unquote(t.slice(sep + 1)), negated, offset };
}

/** The canonical text of a matcher, as quoted in hints. */
export function describeMatcher(m: Matcher): string {
  const pattern = /\s/.test(m.pattern) ? `"${m.pattern}"` : m.pattern;
  const text = `${m.negated ? '!' : ''}${m.key}:${pattern}`;
  return m.offset === -1 ? `[ ${text} ] |` : m.offset === 1 ? `| [ ${text} ]` : text;
}

/** Parses stack trace rules text; unparseable lines are skipped (the built-ins all parse). */
export function parseEnhancements(text: string): Rule[] {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const tokens = tokenize(line);
    const matchers: Matcher[] = [];
    const actions: Action[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i];
      if (tok === '[' && tokens[i + 2] === ']' && tokens[i + 3] === '|') {
        const m = parseMatcher(tokens[i + 1], -1);
        if (m) matchers.push(m);
        i += 3;
      } else if (tok === '|' && tokens[i + 1] === '[' && tokens[i + 3] === ']') {
        const m = parseMatcher(tokens[i + 2], 1);
        if (m) matchers.push(m);
        i += 3;
      } else if (/^[\^v]?[+-](app|group)$/.test(tok)) {
        const range = tok[0] === '^' ? 'up' : tok[0] === 'v' ? 'down' : null;
        const body = range ? tok.slice(1) : tok;
        actions.push({ kind: 'flag', key: body.slice(1) as 'app' | 'group', flag: body[0] === '+', range });
      } else if (/^[a-z-]+=/.test(tok) && !tok.includes(':')) {
        const eq = tok.indexOf('=');
        actions.push({ kind: 'var', name: tok.slice(0, eq), value: tok.slice(eq + 1) });
      } else {
        const m = parseMatcher(tok, 0);
        if (m) matchers.push(m);
      }
    }
    if (matchers.length && actions.length) {
      // Hints quote the whole rule, actions included ("path:**/site-packages/** -app").
      const actionText = actions.map((a) =>
        a.kind === 'var' ? `${a.name}=${a.value}` : `${a.range === 'up' ? '^' : a.range === 'down' ? 'v' : ''}${a.flag ? '+' : '-'}${a.key}`,
      );
      rules.push({ matchers, actions, description: [...matchers.map(describeMatcher), ...actionText].join(' ') });
    }
  }
  return rules;
}

/** The built-in `all-platforms:2023-01-11` rules. */
export const DEFAULT_RULES: readonly Rule[] = parseEnhancements(ALL_PLATFORMS_2023_01_11);

function boolFromString(value: string): boolean | null {
  const v = value.toLowerCase();
  if (['1', 'yes', 'true'].includes(v)) return true;
  if (['0', 'no', 'false'].includes(v)) return false;
  return null;
}

/** A matcher compiled once: patterns become RegExps, so matching a frame costs one regex test. */
type CompiledTest = (frame: MatchFrame, exc: ExceptionData) => boolean;

const compiled = new WeakMap<Matcher, CompiledTest>();

function safeGlob(pattern: string, opts: { doublestar?: boolean } = {}): RegExp | null {
  try {
    return globToRegExp(pattern, opts);
  } catch {
    return null; // an invalid pattern never matches (globMatch's behaviour)
  }
}

const cap = (v: string) => (v.length > MAX_MATCH_CHARS ? v.slice(0, MAX_MATCH_CHARS) : v);

/** Path-like values, lowercased with `/` separators, computed once per frame (pathMatch's normalization). */
function normalizedPath(frame: MatchFrame, key: 'path' | 'package' | 'filename'): string {
  const entry = (frame.paths ??= {});
  return (entry[key] ??= cap((frame[key] as string).toLowerCase().replace(/\\/g, '/')));
}

function compileMatcher(m: Matcher): CompiledTest {
  switch (m.key) {
    case 'family': {
      const flags = m.pattern.split(',');
      const all = flags.includes('all');
      return (frame) => all || flags.includes(frame.family);
    }
    case 'app': {
      const ref = boolFromString(m.pattern);
      return (frame) => ref !== null && ref === !!frame.inApp;
    }
    case 'path':
    case 'package':
    case 'filename': {
      // Same as pathMatch(value, pattern): case-insensitive, `**` spans directories, and a
      // relative value is also tried with a leading `/`.
      const key = m.key;
      const re = safeGlob(m.pattern.toLowerCase().replace(/\\/g, '/'), { doublestar: true });
      if (!re) return () => false;
      return (frame) => {
        if (frame[key] === null) return false;
        const v = normalizedPath(frame, key);
        return re.test(v) || (!v.startsWith('/') && re.test(cap('/' + v)));
      };
    }
    case 'type':
    case 'value':
    case 'mechanism': {
      const key = m.key;
      const re = safeGlob(m.pattern);
      return (_frame, exc) => re !== null && re.test(cap(exc[key] || '<unknown>'));
    }
    default: {
      const key = m.key as 'function' | 'module' | 'category';
      const re = safeGlob(m.pattern);
      return (frame) => {
        const value = frame[key];
        return value !== null && (value === m.pattern || (re !== null && re.test(cap(value))));
      };
    }
  }
}

function positiveMatch(m: Matcher, frame: MatchFrame, exc: ExceptionData): boolean {
  let test = compiled.get(m);
  if (!test) compiled.set(m, (test = compileMatcher(m)));
  return test(frame, exc);
}

function matcherMatches(m: Matcher, frames: MatchFrame[], idx: number, exc: ExceptionData): boolean {
  const target = idx + m.offset;
  if (target < 0 || target >= frames.length) return false;
  const rv = positiveMatch(m, frames[target], exc);
  return m.negated ? !rv : rv;
}

/** Per rule: its exception and frame matchers, the families it is limited to (null: any), and whether it needs a category. */
const splitMatchers = new WeakMap<Rule, { exc: Matcher[]; frame: Matcher[]; families: string[] | null; category: boolean }>();
/** The families present in a stack, computed once per stack. */
const stackFamilies = new WeakMap<MatchFrame[], Set<string>>();

/**
 * Screens for the built-in rules. A rule's positive matchers on the frame itself that read the
 * frame's name and place (family, function, module, package, path, filename: fields no rule
 * changes) must all hold for the rule to match that frame. Whether they do depends on the frame
 * alone, so it is worked out once per distinct frame: stacks of new issues are mostly frames seen
 * before (libraries, the runtime, the application's shared code), and a grouping memo miss used to
 * test every built-in rule against every frame (about 265 µs for a 30-frame stack). Frames that
 * pass a rule's screen are then checked against all of its matchers as before, so the result is
 * the same. Project rules are not screened.
 */
const SCREEN_KEYS = new Set(['family', 'function', 'module', 'package', 'path', 'filename']);
const screens: Matcher[][] = [];
/** Built-in rule → index of its screen (rules without a screenable matcher have none). */
const screenOf = new Map<Rule, number>();
for (const rule of DEFAULT_RULES) {
  const screen = rule.matchers.filter((m) => SCREEN_KEYS.has(m.key) && !m.negated && m.offset === 0);
  if (screen.length === 0) continue;
  screenOf.set(rule, screens.length);
  screens.push(screen);
}
const NO_EXCEPTION: ExceptionData = {};
/** A frame's name and place → the screens it passes (a few hundred bytes an entry). */
const framePasses = new LRUCache<string, number[]>({ max: 5_000 });
/** Per stack: screen index → the frames that pass it. */
const stackPasses = new WeakMap<MatchFrame[], Map<number, number[]>>();

/**
 * Which screens a frame of a family can pass at all, without testing most of them: a screen's
 * family matcher depends on the family alone, and a glob that does not begin with a wildcard
 * matches only values that begin with its first character. So per family, each screen is filed
 * under the first character of one such matcher (its "anchor"), or under `always` when it has
 * none; a frame is then tested only against `always` and the screens filed under its own values'
 * first characters. Of the 300 screens, a JavaScript frame used to test about 106 (every screen
 * without a family), now about 20.
 */
interface ScreenIndex {
  always: number[];
  byChar: Map<AnchorKey, Map<string, number[]>>;
}
type AnchorKey = 'function' | 'module' | 'package' | 'path' | 'filename';
const PATH_KEYS = new Set(['package', 'path', 'filename']);
const screenIndexes = new Map<string, ScreenIndex>();

/** Path values are matched with and without a leading `/` (compileMatcher), so one is set aside on both sides. */
const withoutLeadingSlash = (v: string) => (v.startsWith('/') ? v.slice(1) : v);

/** The character every value that matcher `key`/`pattern` accepts begins with, or null when there is none. */
function anchorChar(key: string, pattern: string): string | null {
  const p = PATH_KEYS.has(key) ? withoutLeadingSlash(pattern.toLowerCase().replace(/\\/g, '/')) : pattern;
  const c = p[0];
  return c === undefined || '*?[\\'.includes(c) ? null : c;
}

/** The first character of the frame's value for `key`, as anchorChar sees it (undefined: no matcher on `key` can pass). */
function valueChar(frame: MatchFrame, key: AnchorKey): string | undefined {
  if (frame[key] === null) return undefined;
  return PATH_KEYS.has(key) ? withoutLeadingSlash(normalizedPath(frame, key as 'path' | 'package' | 'filename'))[0] : (frame[key] as string)[0];
}

function screenIndex(family: string): ScreenIndex {
  const known = screenIndexes.get(family);
  if (known) return known;
  const index: ScreenIndex = { always: [], byChar: new Map() };
  const probe = { family } as MatchFrame;
  for (let i = 0; i < screens.length; i++) {
    const screen = screens[i];
    if (!screen.every((m) => m.key !== 'family' || positiveMatch(m, probe, NO_EXCEPTION))) continue;
    const anchor = screen.map((m) => ({ key: m.key as AnchorKey, c: m.key === 'family' ? null : anchorChar(m.key, m.pattern) })).find((a) => a.c !== null);
    if (!anchor) {
      index.always.push(i);
      continue;
    }
    let byChar = index.byChar.get(anchor.key);
    if (!byChar) index.byChar.set(anchor.key, (byChar = new Map()));
    const list = byChar.get(anchor.c!);
    if (list) list.push(i);
    else byChar.set(anchor.c!, [i]);
  }
  // Families come from platforms, a handful; a flood of odd ones is still screened, just not kept.
  if (screenIndexes.size < 64) screenIndexes.set(family, index);
  return index;
}

/** The screens a frame might pass, ascending: the only ones passesOf tests. */
function candidateScreens(frame: MatchFrame): number[] {
  const index = screenIndex(frame.family);
  const out = index.always.slice();
  for (const [key, byChar] of index.byChar) {
    const c = valueChar(frame, key);
    const list = c === undefined ? undefined : byChar.get(c);
    if (list) out.push(...list);
  }
  return out.sort((a, b) => a - b);
}

/** The same, kept on the frame object: a stack is matched twice (classifier rules, then contribution rules). */
function passesOf(frame: MatchFrame): number[] {
  const known = frame.passes;
  if (known) return known;
  const key = `${frame.family}\u0001${frame.function}\u0001${frame.module ?? '\u0000'}\u0001${frame.package ?? '\u0000'}\u0001${frame.path ?? '\u0000'}\u0001${frame.filename ?? '\u0000'}`;
  let passes = framePasses.get(key);
  if (!passes) {
    passes = [];
    for (const i of candidateScreens(frame)) if (screens[i].every((m) => positiveMatch(m, frame, NO_EXCEPTION))) passes.push(i);
    framePasses.set(key, passes);
  }
  frame.passes = passes;
  return passes;
}

/** The frames of a stack that pass built-in rule screen `screen`, in order. */
function screenedFrames(frames: MatchFrame[], screen: number): number[] | undefined {
  let byScreen = stackPasses.get(frames);
  if (!byScreen) {
    byScreen = new Map();
    for (let i = 0; i < frames.length; i++) {
      for (const p of passesOf(frames[i])) {
        const list = byScreen.get(p);
        if (list) list.push(i);
        else byScreen.set(p, [i]);
      }
    }
    stackPasses.set(frames, byScreen);
  }
  return byScreen.get(screen);
}

/** Indices of the frames a rule matches (exception matchers are checked once for the stack). */
function splitOf(rule: Rule) {
  let split = splitMatchers.get(rule);
  if (!split) {
    const family = rule.matchers.find((m) => m.key === 'family' && !m.negated && m.offset === 0);
    const flags = family ? family.pattern.split(',') : null;
    split = {
      exc: rule.matchers.filter((m) => EXCEPTION_KEYS.has(m.key)),
      frame: rule.matchers.filter((m) => !EXCEPTION_KEYS.has(m.key)),
      families: flags && !flags.includes('all') ? flags : null,
      category: rule.matchers.some((m) => m.key === 'category' && !m.negated && m.offset === 0),
    };
    splitMatchers.set(rule, split);
  }
  return split;
}

function familiesOf(frames: MatchFrame[]): Set<string> {
  let present = stackFamilies.get(frames);
  if (!present) stackFamilies.set(frames, (present = new Set(frames.map((f) => f.family))));
  return present;
}

/** Whether a rule limited to some families names one the stack has. */
function familiesAllow(rule: Rule, frames: MatchFrame[]): boolean {
  const families = splitOf(rule).families;
  if (!families) return true;
  const present = familiesOf(frames);
  return families.some((f) => present.has(f));
}

function matchingIndices(rule: Rule, frames: MatchFrame[], exc: ExceptionData): number[] {
  const split = splitOf(rule);
  // Most built-in rules name a family (native, javascript, ...): skip them for stacks without it.
  if (!familiesAllow(rule, frames)) return [];
  // A frame's category comes from its data (native symbolication) or a `category=` rule, and most
  // stacks have none: then a rule that needs one cannot match (categories change during
  // classification, so this is asked for each rule).
  if (split.category && frames.every((f) => f.category === null)) return [];
  const excMatchers = split.exc;
  for (const m of excMatchers) {
    const rv = positiveMatch(m, frames[0] ?? ({} as MatchFrame), exc);
    if (m.negated ? rv : !rv) return [];
  }
  const frameMatchers = split.frame;
  if (frameMatchers.length === 0 && excMatchers.length === 0) return [];
  const out: number[] = [];
  const screen = screenOf.get(rule);
  if (screen !== undefined) {
    for (const i of screenedFrames(frames, screen) ?? []) {
      if (frameMatchers.every((m) => matcherMatches(m, frames, i, exc))) out.push(i);
    }
    return out;
  }
  for (let i = 0; i < frames.length; i++) {
    if (frameMatchers.every((m) => matcherMatches(m, frames, i, exc))) out.push(i);
  }
  return out;
}

function sliceRange(range: 'up' | 'down' | null, length: number, idx: number): number[] {
  if (range === null) return [idx];
  const out: number[] = [];
  if (range === 'down') for (let i = 0; i < idx; i++) out.push(i);
  else for (let i = idx + 1; i < length; i++) out.push(i);
  return out;
}

/** Result of the classifier pass for one frame: the rule-set in_app (if any) and its hint. */
export interface ClassifiedFrame {
  inApp: boolean | null;
  category: string | null;
  inAppHint: string | null;
}

/**
 * Runs the `+app`/`-app`/`category=` rules over a stack, mutating `frames` (the match view) and
 * returning what each rule decided. `frames[i].inApp` starts as the client value.
 */
export function classifyFrames(frames: MatchFrame[], exc: ExceptionData, rules: readonly Rule[] = DEFAULT_RULES): ClassifiedFrame[] {
  // The built-in rules look only at frame fields (no error.* matchers), so a stack that was
  // classified before gets the same answer: remember it. Events of one issue repeat their stacks,
  // which makes this the common case. Project rules are not memoized.
  if (rules !== DEFAULT_RULES || DEFAULT_RULES_USE_EXCEPTION) return classifyUncached(frames, exc, rules);
  const key = frames
    .map((f) => `${f.family}\u0001${f.function}\u0001${f.module}\u0001${f.package}\u0001${f.path}\u0001${f.filename}\u0001${f.inApp}\u0001${f.category}`)
    .join('\u0002');
  const hit = classifyMemo.get(key);
  if (hit) {
    frames.forEach((f, i) => {
      f.inApp = hit.inApp[i];
      f.category = hit.category[i];
    });
    return hit.result.map((r) => ({ ...r }));
  }
  const result = classifyUncached(frames, exc, rules);
  // Small on purpose: the pipeline memoizes whole grouping results, so this mostly serves the
  // second classification of a new stack (in-app defaults, then grouping). Keys are whole stacks,
  // kilobytes each: 10,000 of them held about 60 MB with many distinct issues.
  if (classifyMemo.size >= 1_000) classifyMemo.clear();
  classifyMemo.set(key, { result: result.map((r) => ({ ...r })), inApp: frames.map((f) => f.inApp), category: frames.map((f) => f.category) });
  return result;
}

const DEFAULT_RULES_USE_EXCEPTION = DEFAULT_RULES.some((r) => r.matchers.some((m) => EXCEPTION_KEYS.has(m.key)));
const classifyMemo = new Map<string, { result: ClassifiedFrame[]; inApp: (boolean | null)[]; category: (string | null)[] }>();

/** Per rule: its `+app`/`-app`/`category=` actions (computed once). */
const appActions = new WeakMap<Rule, Action[]>();

function classifyActions(rule: Rule): Action[] {
  let actions = appActions.get(rule);
  if (!actions) {
    actions = rule.actions.filter((a) => (a.kind === 'flag' && a.key === 'app') || (a.kind === 'var' && a.name === 'category'));
    appActions.set(rule, actions);
  }
  return actions;
}

/**
 * The built-in rules with actions of one kind that can match a stack with these families, in
 * order: most name a family the stack does not have (203 of 331 name one, 9 of them JavaScript),
 * and going through them only to skip them was most of a pass over a JavaScript stack.
 */
const rulesByFamilies = new Map<string, readonly Rule[]>();

function rulesFor(kind: 'classify' | 'contribute', rules: readonly Rule[], frames: MatchFrame[]): readonly Rule[] {
  if (rules !== DEFAULT_RULES) return rules;
  const key = `${kind}\u0001${[...familiesOf(frames)].sort().join(',')}`;
  let list = rulesByFamilies.get(key);
  if (!list) {
    const actionsOf = kind === 'classify' ? classifyActions : contributionActions;
    list = rules.filter((rule) => actionsOf(rule).length > 0 && familiesAllow(rule, frames));
    if (rulesByFamilies.size < 64) rulesByFamilies.set(key, list);
  }
  return list;
}

function classifyUncached(frames: MatchFrame[], exc: ExceptionData, rules: readonly Rule[]): ClassifiedFrame[] {
  const result: ClassifiedFrame[] = frames.map(() => ({ inApp: null, category: null, inAppHint: null }));
  for (const rule of rulesFor('classify', rules, frames)) {
    const modifiers = classifyActions(rule);
    if (modifiers.length === 0) continue;
    const indices = matchingIndices(rule, frames, exc);
    for (const idx of indices) {
      for (const action of modifiers) {
        if (action.kind === 'var') {
          frames[idx].category = action.value;
          result[idx].category = action.value;
        } else if (action.kind === 'flag') {
          for (const j of sliceRange(action.range, frames.length, idx)) {
            if (frames[j].inApp !== action.flag) {
              result[j].inAppHint = `marked ${action.flag ? 'in-app' : 'out of app'} by stack trace rule (${rule.description})`;
            }
            frames[j].inApp = action.flag;
            result[j].inApp = action.flag;
          }
        }
      }
    }
  }
  return result;
}

/** Per rule: its `+group`/`-group`/`max-frames`/`min-frames` actions (computed once). */
const groupActions = new WeakMap<Rule, Action[]>();

function contributionActions(rule: Rule): Action[] {
  let actions = groupActions.get(rule);
  if (!actions) {
    actions = rule.actions.filter((a) => (a.kind === 'flag' && a.key === 'group') || (a.kind === 'var' && a.name !== 'category'));
    groupActions.set(rule, actions);
  }
  return actions;
}

/** The contribution rules that match a stack, with the frames each matches, in rule order. */
export type ContributionMatches = { rule: Rule; actions: Action[]; indices: number[] }[];

/**
 * Matches the contribution rules against a stack once: the `app` and `system` variants of a stack
 * see the same frames, so they share the result.
 */
export function contributionMatches(frames: MatchFrame[], exc: ExceptionData, rules: readonly Rule[] = DEFAULT_RULES): ContributionMatches {
  const out: ContributionMatches = [];
  for (const rule of rulesFor('contribute', rules, frames)) {
    const actions = contributionActions(rule);
    if (actions.length === 0) continue;
    const indices = matchingIndices(rule, frames, exc);
    if (indices.length) out.push({ rule, actions, indices });
  }
  return out;
}

/**
 * Applies `+group`/`-group`, `max-frames` and `min-frames` to the frame components of one stack and
 * returns the stacktrace-level `{contributes, hint}` (undefined `contributes` = derive from frames).
 */
export function applyContributionRules(components: GroupingComponent[], matches: ContributionMatches): { contributes?: boolean; hint: string | null } {
  const state: Record<string, { value: number; rule: Rule } | undefined> = {};
  for (const { rule, actions, indices } of matches) {
    for (const idx of indices) {
      for (const action of actions) {
        if (action.kind === 'var') {
          const n = Number.parseInt(action.value, 10);
          if (Number.isFinite(n)) state[action.name] = { value: n, rule };
          continue;
        }
        if (action.kind !== 'flag') continue;
        for (const j of sliceRange(action.range, components.length, idx)) {
          const c = components[j];
          if (c && c.contributes !== action.flag) {
            updateComponent(c, {
              contributes: action.flag,
              hint: `${action.flag ? 'un-ignored' : 'ignored'} by stack trace rule (${rule.description})`,
            });
          }
        }
      }
    }
  }
  const maxFrames = state['max-frames'];
  if (maxFrames && maxFrames.value > 0) {
    let seen = 0;
    for (let i = components.length - 1; i >= 0; i--) {
      if (!components[i].contributes) continue;
      if (++seen <= maxFrames.value) continue;
      const n = maxFrames.value;
      updateComponent(components[i], {
        contributes: false,
        hint: `ignored because only ${n} ${n !== 1 ? 'frames are' : 'frame is'} considered by stack trace rule (${maxFrames.rule.description})`,
      });
    }
  }
  const minFrames = state['min-frames'];
  if (minFrames && minFrames.value > 0) {
    const total = components.filter((c) => c.contributes).length;
    if (total > 0 && total < minFrames.value) {
      return {
        contributes: false,
        hint: `discarded because stack trace only contains ${total} frame${total !== 1 ? 's' : ''} which is under the configured threshold by stack trace rule (${minFrames.rule.description})`,
      };
    }
  }
  return { hint: null };
}
