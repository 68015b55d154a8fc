/**
 * Runs the grouping strategies in Sentry's priority order and assembles the `app`, `system` and
 * `default` component trees: chained-exception, threads, stacktrace, template, csp, hpkp,
 * expect-staple, expect-ct, message. The first strategy with a contributing component wins; the
 * others are kept for display but marked "… takes precedence".
 *
 * Follows `src/sentry/grouping/api.py` (`_get_variants_from_strategies`), `strategies/base.py`
 * (`Strategy.get_grouping_components`: priority-variant dedupe), `newstyle.py` (threads),
 * `template.py` and `security.py`. Leaves out the hierarchical variants of retired configs.
 */
import { componentHash, type GroupingComponent, makeComponent, updateComponent } from './components.js';
import { type EventView } from './event-view.js';
import { chainedException } from './exception.js';
import { str, type GroupingFrame } from './frame.js';
import { messageComponent } from './message.js';
import { type ComponentsByVariant, removeNonStacktraceVariants, stacktraceVariants } from './stacktrace.js';

interface Strategy {
  /** The interface name Sentry uses in precedence hints ("exception of system takes precedence"). */
  name: string;
  run(view: EventView, state: RunState): ComponentsByVariant | null;
  stacktraceVariants?: boolean;
}

interface RunState {
  mainExceptionId: number | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function threadsStrategy(view: EventView): ComponentsByVariant | null {
  const threads = view.threads;
  if (!threads) return null;
  const forThread = (list: typeof threads): ComponentsByVariant | null => {
    if (list.length !== 1) return null;
    const frames: GroupingFrame[] | null = list[0].frames;
    if (!frames) return new Map([['app', makeComponent('threads', [], { contributes: false, hint: 'ignored because thread has no stacktrace' })]]);
    const out: ComponentsByVariant = new Map();
    for (const [k, stack] of stacktraceVariants(frames, view.platform, {}, view.rules)) out.set(k, makeComponent('threads', [stack]));
    return out;
  };
  const crashed = threads.filter((t) => t.crashed);
  const current = threads.filter((t) => t.current);
  return (
    forThread(crashed) ??
    forThread(current) ??
    forThread(threads) ??
    new Map([
      [
        'app',
        makeComponent('threads', [], {
          contributes: false,
          hint: `ignored because it contains neither a single thread nor multiple threads with exactly one crashing or current thread; instead contains ${crashed.length} crashing, ${current.length} current, and ${threads.length} total threads`,
        }),
      ],
    ])
  );
}

function templateStrategy(view: EventView): ComponentsByVariant | null {
  const t = view.event.template;
  if (!isRecord(t)) return null;
  const filename = makeComponent('filename');
  const fn = str(t.filename);
  if (fn !== null) updateComponent(filename, { values: [fn.split('/').pop()!] });
  const contextLine = makeComponent('context-line');
  const line = str(t.context_line);
  if (line !== null) updateComponent(contextLine, { values: [line] });
  return new Map([['default', makeComponent('template', [filename, contextLine])]]);
}

const LOCAL = "'self'";

// Python's `urllib.parse.uses_netloc`: these schemes get `//` even with an empty host.
const USES_NETLOC = new Set(['', 'ftp', 'http', 'gopher', 'nntp', 'telnet', 'imap', 'wais', 'file', 'mms', 'https', 'shttp', 'snews', 'prospero', 'rtsp', 'rtspu', 'rsync', 'svn', 'svn+ssh', 'sftp', 'nfs', 'git', 'git+ssh', 'ws', 'wss']);

function unsplit(scheme: string, host: string): string {
  return host || USES_NETLOC.has(scheme) ? `${scheme}://${host}` : `${scheme}:`;
}

/** Sentry's `Csp._normalize_uri`: `'self'` for local, the host for http(s), else `scheme://host`. */
function normalizeUri(value: string): string {
  if (value === '' || value === LOCAL || value === 'self') return LOCAL;
  if (!value.includes(':')) return unsplit(value, '');
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(?:\/\/([^/?#]*))?/.exec(value);
  if (!m) return value;
  const scheme = m[1].toLowerCase();
  const host = m[2] ?? '';
  if (scheme === 'http' || scheme === 'https') return host;
  return unsplit(scheme, host);
}

function cspStrategy(view: EventView): ComponentsByVariant | null {
  const csp = view.event.csp;
  if (!isRecord(csp)) return null;
  const blocked = normalizeUri(str(csp.blocked_uri) ?? '');
  const effective = str(csp.effective_directive);
  const violated = str(csp.violated_directive);
  let local: string | null = null;
  if (violated && effective === 'script-src' && blocked === LOCAL) {
    if (violated.includes("'unsafe-inline'")) local = 'unsafe-inline';
    else if (violated.includes("'unsafe-eval'")) local = 'unsafe-eval';
  }
  const violation = makeComponent('violation');
  const uri = makeComponent('uri');
  if (local) {
    updateComponent(violation, { values: [`'${local}'`] });
    updateComponent(uri, { contributes: false, hint: 'violation takes precedence', values: [blocked] });
  } else {
    updateComponent(violation, { contributes: false, hint: 'not a local script violation' });
    updateComponent(uri, { values: [blocked] });
  }
  const salt = makeComponent('salt', effective !== null ? [effective] : []);
  return new Map([['default', makeComponent('csp', [salt, violation, uri])]]);
}

function securityStrategy(key: 'hpkp' | 'expectct' | 'expectstaple', id: string) {
  return (view: EventView): ComponentsByVariant | null => {
    const report = view.event[key];
    if (!isRecord(report)) return null;
    const hostname = str(report.hostname);
    return new Map([
      ['default', makeComponent(id, [makeComponent('salt', [id]), makeComponent('hostname', hostname !== null ? [hostname] : [])])],
    ]);
  };
}

const STRATEGIES: Strategy[] = [
  {
    name: 'exception',
    stacktraceVariants: true,
    run: (view, state) => {
      if (view.exceptions.length === 0) return null;
      const sdk = view.event.sdk;
      const python3 = view.event.platform === 'python' && !!sdk && typeof sdk.version === 'string' && sdk.version.startsWith('3');
      const result = chainedException(view.exceptions, view.platform, python3, view.rules, view.hashesOnly);
      state.mainExceptionId = result.mainExceptionId;
      return result.variants;
    },
  },
  { name: 'threads', stacktraceVariants: true, run: threadsStrategy },
  {
    name: 'stacktrace',
    stacktraceVariants: true,
    run: (view) => (view.stacktrace ? stacktraceVariants(view.stacktrace, view.platform, {}, view.rules) : null),
  },
  { name: 'template', run: templateStrategy },
  { name: 'csp', run: cspStrategy },
  { name: 'hpkp', run: securityStrategy('hpkp', 'hpkp') },
  { name: 'expectstaple', run: securityStrategy('expectstaple', 'expect-staple') },
  { name: 'expectct', run: securityStrategy('expectct', 'expect-ct') },
  { name: 'message', run: (view) => (view.logentry ? new Map([['default', messageComponent(view.logentry)]]) : null) },
];

/**
 * Hashes `finishStrategy` took of a strategy's contributing components. After it, a component only
 * ever stops contributing, so one that still contributes hashes the same: a variant's root with
 * that one contributing component reuses it (`strategyHash`) instead of walking the tree again.
 */
const hashedInFinish = new WeakMap<GroupingComponent, string>();

function hashOnce(c: GroupingComponent): string {
  let h = hashedInFinish.get(c);
  if (h === undefined) {
    h = componentHash(c)!;
    hashedInFinish.set(c, h);
  }
  return h;
}

/** The hash `finishStrategy` took of a component that still contributes, if it took one. */
export function strategyHash(c: GroupingComponent): string | undefined {
  return c.contributes ? hashedInFinish.get(c) : undefined;
}

/** Applies Sentry's per-strategy post-processing: `!`-priority dedupe, then stacktrace-variant pruning. */
function finishStrategy(strategy: Strategy, raw: ComponentsByVariant): ComponentsByVariant {
  const out: ComponentsByVariant = new Map();
  const priorityByHash = new Map<string, string>();
  const others: string[] = [];
  for (const [key, c] of raw) {
    const name = key.replace(/^!+/, '');
    if (c.contributes) {
      if (key.startsWith('!')) priorityByHash.set(hashOnce(c), name);
      else others.push(name);
    }
    out.set(name, c);
  }
  // Without a priority variant there is nothing to compare with.
  for (const name of priorityByHash.size ? others : []) {
    const c = out.get(name)!;
    const match = priorityByHash.get(hashOnce(c));
    if (match !== undefined) updateComponent(c, { contributes: false, hint: `ignored because hash matches ${match} variant` });
  }
  return strategy.stacktraceVariants ? removeNonStacktraceVariants(out) : out;
}

/** The root component of each variant (`app`, `system`, `default`) and the winning strategy's hint. */
export interface StrategyResult {
  roots: Map<string, GroupingComponent>;
  mainExceptionId: number | null;
}

/** Runs every strategy over the event and builds the root component of each variant. */
export function runStrategies(view: EventView): StrategyResult {
  const state: RunState = { mainExceptionId: null };
  const byVariant = new Map<string, GroupingComponent[]>();
  let winner: string | null = null;
  let precedenceHint: string | null = null;
  for (const strategy of STRATEGIES) {
    const raw = strategy.run(view, state);
    if (!raw) continue;
    const components = finishStrategy(strategy, raw);
    for (const [variant, c] of components) {
      if (!byVariant.has(variant)) byVariant.set(variant, []);
      byVariant.get(variant)!.push(c);
      if (!c.contributes) continue;
      if (winner === null) {
        winner = strategy.name;
        const contributing = [...components].filter(([, x]) => x.contributes).map(([k]) => k).sort().join('/');
        const subject = variant !== 'default' ? `${strategy.name} of ${contributing}` : strategy.name;
        precedenceHint = `${subject} take${strategy.name.endsWith('s') ? '' : 's'} precedence`;
      } else if (strategy.name !== winner) {
        updateComponent(c, { contributes: false, hint: precedenceHint });
      }
    }
  }
  const roots = new Map<string, GroupingComponent>();
  for (const [variant, components] of byVariant) {
    const root = makeComponent(variant, components);
    if (!root.contributes && precedenceHint) root.hint = precedenceHint;
    roots.set(variant, root);
  }
  return { roots, mainExceptionId: state.mainExceptionId };
}
