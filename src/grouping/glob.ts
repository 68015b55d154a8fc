/**
 * Glob matching as used by Sentry's stack trace and fingerprinting rules (`sentry.utils.glob`, which
 * delegates to Relay's glob): `*` matches anything (or, in path mode, anything but `/`), `**`
 * matches anything, `?` one character, `[...]` a class, `\x` a literal x. Whole-string match.
 * Leaves out Relay's options nobody here uses (captures, allow_newline toggles).
 *
 * JS regexes backtrack where Relay's do not, so values are matched on at most `MAX_MATCH_CHARS`
 * characters (Relay trims messages to 8192 and frame fields to 256 before rules run anyway).
 */

/** Longest prefix of a value that rules look at; bounds regex backtracking on hostile input. */
export const MAX_MATCH_CHARS = 8192;

const cache = new Map<string, RegExp>();

function escapeRegex(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? '\\' + ch : ch;
}

/** Compiles a glob into an anchored RegExp (cached). */
export function globToRegExp(pattern: string, opts: { doublestar?: boolean; ignoreCase?: boolean } = {}): RegExp {
  const key = `${opts.doublestar ? 1 : 0}${opts.ignoreCase ? 1 : 0}${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) {
      out += escapeRegex(pattern[++i]);
    } else if (ch === '*') {
      if (opts.doublestar && pattern[i + 1] === '*') {
        while (pattern[i + 1] === '*') i++;
        out += '.*';
      } else {
        out += opts.doublestar ? '[^/]*' : '.*';
      }
    } else if (ch === '?') {
      out += opts.doublestar ? '[^/]' : '.';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
      } else {
        let body = pattern.slice(i + 1, end);
        let negate = false;
        if (body.startsWith('!') || body.startsWith('^')) {
          negate = true;
          body = body.slice(1);
        }
        out += '[' + (negate ? '^' : '') + body.replace(/[\\\]^[]/g, (c) => '\\' + c) + ']';
        i = end;
      }
    } else {
      out += escapeRegex(ch);
    }
  }
  if (cache.size > 5000) cache.clear();
  const re = new RegExp(`^(?:${out})$`, 's' + (opts.ignoreCase ? 'i' : ''));
  cache.set(key, re);
  return re;
}

/** True when `value` matches the glob `pattern`. */
export function globMatch(value: string, pattern: string, opts: { doublestar?: boolean; ignoreCase?: boolean } = {}): boolean {
  try {
    return globToRegExp(pattern, opts).test(value.length > MAX_MATCH_CHARS ? value.slice(0, MAX_MATCH_CHARS) : value);
  } catch {
    return false;
  }
}

/**
 * Path-like match: case-insensitive, `\` normalized to `/`, `**` spanning directories, and a
 * relative value also tried with a leading `/` (Sentry's `path_like_match`).
 */
export function pathMatch(value: string, pattern: string): boolean {
  const v = value.toLowerCase().replace(/\\/g, '/');
  const p = pattern.toLowerCase().replace(/\\/g, '/');
  if (globMatch(v, p, { doublestar: true })) return true;
  return !v.startsWith('/') && globMatch('/' + v, p, { doublestar: true });
}
