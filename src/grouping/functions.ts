/**
 * Function-name helpers shared by frames, rules, fingerprints and titles: platform families and
 * Sentry's `trim_function_name` (which strips native signatures, arguments and generics).
 *
 * Follows `src/sentry/stacktraces/platform.py` and `src/sentry/stacktraces/functions.py`.
 * Leaves out the legacy (`frame:v1` pre-2019) function logic that no current config uses.
 */

const NATIVE_PLATFORMS = new Set(['objc', 'cocoa', 'swift', 'native', 'c']);
const JAVASCRIPT_PLATFORMS = new Set(['javascript', 'node']);

/** `native`, `javascript` or `other` (Sentry's `get_behavior_family_for_platform`). */
export function behaviorFamily(platform: string | null | undefined): 'native' | 'javascript' | 'other' {
  if (platform && NATIVE_PLATFORMS.has(platform)) return 'native';
  if (platform && JAVASCRIPT_PLATFORMS.has(platform)) return 'javascript';
  return 'other';
}

const CPP_TRAILER_RE = /(\bconst\b|&)$/;
const RUST_HASH_RE = /::h[a-z0-9]{16}$/;
const WINDECL_HASH_RE = /^@?(.*?)@[0-9]+$/s;
const RUST_BLANKET_RE = /^([A-Z] as )/;
const LAMBDA_RE = /(?:\{lambda\(.*?\)#\d+\})|(?:\blambda_[a-f0-9]{32}\b)|(?:\$_\d+\b)/g;
const LAMBDA_START_RE = /^(?:(?:\{lambda\(.*?\)#\d+\})|(?:\blambda_[a-f0-9]{32}\b)|(?:\$_\d+\b))/;
const ANON_NAMESPACE_RE = /\?A0x[a-f0-9]{8}::/g;
const PAIRS: Record<string, string> = { '(': ')', '{': '}', '[': ']', '<': '>' };

type Replacement = (inner: string, start: number) => string;

/** Removes balanced `start…end` spans, optionally replacing each top-level span. */
function replaceEnclosed(s: string, start: string, end: string, replacement: Replacement | null): string {
  if (!s.includes(start)) return s;
  let depth = 0;
  let pairStart = 0;
  const out: string[] = [];
  const chars = Array.from(s);
  for (let idx = 0; idx < chars.length; idx++) {
    const ch = chars[idx];
    if (ch === start) {
      if (depth === 0) pairStart = idx;
      depth++;
    } else if (ch === end) {
      depth--;
      if (depth === 0 && replacement) out.push(replacement(chars.slice(pairStart + 1, idx).join(''), pairStart));
    } else if (depth === 0) {
      out.push(ch);
    }
  }
  return out.join('');
}

function splitFuncTokens(s: string): string[] {
  let buf: string[] = [];
  const rv: string[][] = [];
  const stack: string[] = [];
  let end = 0;
  const chars = Array.from(s);
  for (let idx = 0; idx < chars.length; idx++) {
    const ch = chars[idx];
    if (PAIRS[ch]) {
      stack.push(PAIRS[ch]);
    } else if (stack.length && ch === stack[stack.length - 1]) {
      stack.pop();
      if (!stack.length) {
        buf.push(chars.slice(end, idx + 1).join(''));
        end = idx + 1;
      }
    } else if (!stack.length) {
      if (/\s/.test(ch)) {
        if (buf.length) rv.push(buf);
        buf = [];
      } else {
        buf.push(chars.slice(end, idx + 1).join(''));
      }
      end = idx + 1;
    }
  }
  if (buf.length) rv.push(buf);
  return rv.map((x) => x.join(''));
}

function trimNativeFunctionName(fn: string): string {
  if (fn === '<redacted>' || fn === '<unknown>') return fn;
  const original = fn;
  let f = fn.trim();
  if (f.startsWith('[') || f.startsWith('+[') || f.startsWith('-[')) return f;
  for (let m = CPP_TRAILER_RE.exec(f); m; m = CPP_TRAILER_RE.exec(f)) f = f.slice(0, m.index).trimEnd();
  f = f
    .replaceAll('operator<<', 'operator⟨⟨')
    .replaceAll('operator<', 'operator⟨')
    .replaceAll('operator()', 'operator◯')
    .replaceAll(' -> ', ' ⟿ ')
    .replaceAll("`anonymous namespace'", '〔anonymousnamespace〕');
  f = f.replace(LAMBDA_RE, 'lambda');
  f = f.replace(ANON_NAMESPACE_RE, '〔anonymousnamespace〕::');
  f = replaceEnclosed(f, '(', ')', (value) => {
    const v = value.trim();
    return v === 'anonymous namespace' || v === 'operator' ? `(${v})` : '';
  });
  const processGenerics: Replacement = (value, start) => {
    if (value === 'lambda' || LAMBDA_START_RE.test(value)) return `<${value}>`;
    if (start > 0) return '<T>';
    let v = value.replace(RUST_BLANKET_RE, '');
    v = replaceEnclosed(v, '<', '>', processGenerics);
    return v.split(' as ')[0];
  };
  f = replaceEnclosed(f, '<', '>', processGenerics);
  const tokens = splitFuncTokens(f);
  if (tokens.length > 1 && tokens[tokens.length - 1] === '<T>') {
    tokens.pop();
    tokens[tokens.length - 1] += ' <T>';
  }
  const arrow = tokens.indexOf('⟿');
  const funcToken = arrow >= 0 ? tokens.at(arrow - 1) : tokens.at(-1);
  if (funcToken) {
    f = funcToken
      .replaceAll('⟨', '<')
      .replaceAll('◯', '()')
      .replaceAll(' ⟿ ', ' -> ')
      .replaceAll('〔anonymousnamespace〕', "`anonymous namespace'");
  } else {
    f = original;
  }
  f = f.replace(RUST_HASH_RE, '');
  return f.replace(WINDECL_HASH_RE, '$1');
}

/** Sentry's `trim_function_name`: C# loses its signature, native names their arguments and generics. */
export function trimFunctionName(fn: string, platform: string | null | undefined): string {
  if (platform === 'csharp') return fn.split(' (')[0];
  if (behaviorFamily(platform) === 'native') return trimNativeFunctionName(fn);
  return fn;
}

/** Sentry's `get_function_name_for_frame`: `function` as is when `raw_function` exists, else trimmed. */
export function functionNameForFrame(
  frame: { function: string | null; raw_function: string | null; platform: string | null },
  platform: string | null | undefined,
): string | null {
  if (frame.raw_function) return frame.function;
  if (frame.function) return trimFunctionName(frame.function, frame.platform || platform);
  return null;
}
