/**
 * Project stack trace rules ("Stack Trace Rules" / `groupingEnhancements` in project settings):
 * a strict parser for Sentry's text syntax that reports the line and column of the first error.
 * The parsed rules run after the built-in `all-platforms:2023-01-11` rules (see `enhancements.ts`).
 *
 * Follows Sentry's `src/sentry/grouping/enhancer/parser.py` grammar (`matchers… actions…`, an
 * optional `[ caller ] |` before and `| [ callee ]` after the frame matchers, `!` negation, quoted
 * arguments, `#` comments) and the action/matcher names of `actions.py` / `matchers.py`.
 * Leaves out Sentry's base64 config serialization and the `stack.filename` alias on write.
 */
import { GroupingRulesError } from './fingerprint-rules.js';
import { type Action, describeMatcher, MATCHER_KEYS, type Matcher, type Rule } from './enhancements.js';

/** Variable actions Sentry accepts (`name=value`). */
const VAR_ACTIONS = new Set(['max-frames', 'min-frames', 'invert-stacktrace', 'category']);
const FLAG_RE = /^([\^v]?)([+-])(app|group)$/;
const IDENT_RE = /^[a-zA-Z0-9_.-]+$/;

interface Token {
  text: string;
  col: number;
}

function fail(message: string, line: number, col: number): never {
  throw new GroupingRulesError(`Invalid stack trace rule at line ${line}, column ${col}: ${message}`, line, col);
}

/** Splits one line into tokens, keeping quoted strings whole and `[`, `]`, `|` separate. */
function tokenize(text: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t') {
      i++;
    } else if (ch === '#') {
      break;
    } else if (ch === '[' || ch === ']' || ch === '|') {
      tokens.push({ text: ch, col: i + 1 });
      i++;
    } else {
      const start = i;
      let quoteAt = -1;
      while (i < text.length && (quoteAt >= 0 || !/[\s[\]|]/.test(text[i]))) {
        if (text[i] === '\\' && quoteAt >= 0) i++;
        else if (text[i] === '"') quoteAt = quoteAt >= 0 ? -1 : i;
        i++;
      }
      if (quoteAt >= 0) fail('unterminated quoted string', line, quoteAt + 1);
      tokens.push({ text: text.slice(start, i), col: start + 1 });
    }
  }
  return tokens;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) return value.slice(1, -1).replace(/\\(.)/g, '$1');
  return value;
}

function parseMatcher(tok: Token | undefined, offset: -1 | 0 | 1, line: number, fallbackCol: number): Matcher {
  if (!tok) fail('expected a matcher', line, fallbackCol);
  let t = tok.text;
  const negated = t.startsWith('!');
  if (negated) t = t.slice(1);
  const sep = t.indexOf(':');
  if (sep <= 0) fail(`expected a matcher like "stack.function:foo", got "${tok.text}"`, line, tok.col);
  const name = unquote(t.slice(0, sep));
  const key = MATCHER_KEYS[name];
  if (!key || name === 'stack.filename') fail(`unknown matcher "${name}"`, line, tok.col);
  const pattern = unquote(t.slice(sep + 1));
  if (pattern === '') fail(`matcher "${name}" needs a value`, line, tok.col + sep + 1);
  if (key === 'family' && !pattern.split(',').every((f) => ['native', 'javascript', 'other', 'all'].includes(f))) {
    fail(`unknown family "${pattern}"`, line, tok.col + sep + 1);
  }
  return { key, pattern, negated, offset };
}

function parseAction(tok: Token, line: number): Action | null {
  const flag = FLAG_RE.exec(tok.text);
  if (flag) {
    const range = flag[1] === '^' ? 'up' : flag[1] === 'v' ? 'down' : null;
    return { kind: 'flag', key: flag[3] as 'app' | 'group', flag: flag[2] === '+', range };
  }
  const eq = tok.text.indexOf('=');
  if (eq > 0 && !tok.text.includes(':')) {
    const name = tok.text.slice(0, eq);
    const value = tok.text.slice(eq + 1);
    if (!VAR_ACTIONS.has(name)) fail(`unknown action "${name}"`, line, tok.col);
    if (!IDENT_RE.test(value)) fail(`invalid value for "${name}"`, line, tok.col + eq + 1);
    if ((name === 'max-frames' || name === 'min-frames') && !/^\d+$/.test(value)) fail(`"${name}" needs a number`, line, tok.col + eq + 1);
    return { kind: 'var', name, value };
  }
  return null;
}

function actionText(a: Action): string {
  if (a.kind === 'var') return `${a.name}=${a.value}`;
  return `${a.range === 'up' ? '^' : a.range === 'down' ? 'v' : ''}${a.flag ? '+' : '-'}${a.key}`;
}

function parseLine(text: string, line: number): Rule | null {
  const tokens = tokenize(text, line);
  if (tokens.length === 0) return null;
  const matchers: Matcher[] = [];
  const actions: Action[] = [];
  let i = 0;
  if (tokens[0].text === '[') {
    matchers.push(parseMatcher(tokens[1], -1, line, tokens[0].col + 1));
    if (tokens[2]?.text !== ']') fail('expected "]"', line, tokens[2]?.col ?? text.length + 1);
    if (tokens[3]?.text !== '|') fail('expected "|" after the caller matcher', line, tokens[3]?.col ?? text.length + 1);
    i = 4;
  }
  let frameMatchers = 0;
  for (; i < tokens.length; i++) {
    const tok = tokens[i];
    if (tok.text === '|') {
      if (tokens[i + 1]?.text !== '[') fail('expected "[" after "|"', line, tokens[i + 1]?.col ?? text.length + 1);
      matchers.push(parseMatcher(tokens[i + 2], 1, line, tokens[i + 1].col + 1));
      if (tokens[i + 3]?.text !== ']') fail('expected "]"', line, tokens[i + 3]?.col ?? text.length + 1);
      i += 4;
      break;
    }
    if (tok.text === '[' || tok.text === ']') fail(`unexpected "${tok.text}"`, line, tok.col);
    const action = parseAction(tok, line);
    if (action) break;
    if (frameMatchers > 0 && !tok.text.includes(':')) fail(`expected an action like "-group" or "+app", got "${tok.text}"`, line, tok.col);
    matchers.push(parseMatcher(tok, 0, line, tok.col));
    frameMatchers++;
  }
  if (frameMatchers === 0) fail('a rule needs at least one frame matcher', line, tokens[Math.min(i, tokens.length - 1)].col);
  for (; i < tokens.length; i++) {
    const action = parseAction(tokens[i], line);
    if (!action) fail(`expected an action like "-group" or "+app", got "${tokens[i].text}"`, line, tokens[i].col);
    actions.push(action);
  }
  if (actions.length === 0) fail('a rule needs at least one action', line, text.length + 1);
  return { matchers, actions, description: [...matchers.map(describeMatcher), ...actions.map(actionText)].join(' ') };
}

/**
 * Parses project stack trace rules. Blank lines and `#` comments are ignored.
 * @throws GroupingRulesError with the 1-based line and column of the first syntax error.
 */
export function parseStacktraceRules(text: string): Rule[] {
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    const rule = parseLine(raw, idx + 1);
    if (rule) rules.push(rule);
  });
  return rules;
}
