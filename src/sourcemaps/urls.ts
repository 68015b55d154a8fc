/**
 * URL handling for source-map lookups, after symbolicator `crates/symbolicator-js/src/utils.rs`
 * (`get_release_file_candidate_urls`, `join_paths`, `strip_hostname`, `fixup_webpack_filename`)
 * and Sentry's `generate_module` (protocol.md §7.3–7.4).
 *
 * Left out: scraping (fetching files from the web); only uploaded artifacts are used.
 */
import path from 'node:path';

const SCHEME_HOST = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i;

function stripQuery(u: string): string {
  const i = u.indexOf('?');
  return i >= 0 ? u.slice(0, i) : u;
}

/** The path (and query) of a URL without scheme and host; plain absolute paths as they are. */
export function stripHostname(u: string): string | null {
  const m = SCHEME_HOST.exec(u);
  if (m) return m[2] === '' ? '/' : m[2].startsWith('/') ? m[2] : `/${m[2]}`;
  if (u.startsWith('/')) return u;
  return null;
}

/** The URLs an artifact for `absPath` may have been uploaded under, in lookup order. */
export function candidateUrls(absPath: string): string[] {
  const out: string[] = [];
  const push = (u: string | null) => {
    if (u && !out.includes(u)) out.push(u);
  };
  const noFragment = absPath.split('#')[0];
  push(noFragment);
  push(stripQuery(noFragment));
  if (!noFragment.startsWith('~/')) {
    const p = stripHostname(noFragment);
    if (p) {
      push(`~${p}`);
      push(`~${stripQuery(p)}`);
    }
  }
  return out;
}

/** Resolves `right` (a sourceMappingURL or a map's source) against the URL or path `base`. */
export function joinPaths(base: string, right: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(right) || right.startsWith('~/')) return right;
  const m = SCHEME_HOST.exec(base);
  const [prefix, basePath] = m ? [m[1], m[2] || '/'] : base.startsWith('~/') ? ['~', base.slice(1)] : ['', base];
  const joined = right.startsWith('/') ? path.posix.normalize(right) : path.posix.join(path.posix.dirname(stripQuery(basePath)), right);
  return prefix + (prefix && !joined.startsWith('/') ? `/${joined}` : joined);
}

/** The URL of a minified file's source map: its `sourcemap` header, else its last comment. */
export function sourceMapReference(headers: Record<string, string>, source: string): string | null {
  const header = headers['sourcemap'] ?? headers['x-sourcemap'];
  if (header) return header;
  // Only the tail matters, and a minified file can be megabytes: look at the last 4 KiB.
  const tail = source.slice(-4096);
  const re = /\/\/[#@]\s*sourceMappingURL=(\S+)\s*$/gm;
  let last: string | null = null;
  for (let m = re.exec(tail); m; m = re.exec(tail)) last = m[1];
  return last;
}

/** The map of a `data:` URL, or null when the reference is not one. */
export function decodeDataUrl(ref: string): string | null {
  const m = /^data:([^,]*),(.*)$/s.exec(ref);
  if (!m) return null;
  return /;base64$/i.test(m[1]) ? Buffer.from(m[2], 'base64').toString('utf8') : decodeURIComponent(m[2]);
}

/** `webpack:///./src/App.jsx` → `./src/App.jsx`; `webpack://pkg/./x.js` → `./x.js`. */
export function fixupWebpackFilename(filename: string): string {
  const m = /^webpack:\/\/[^/]*\/(.*)$/.exec(filename);
  if (!m) return filename;
  const rest = m[1];
  if (rest.startsWith('./') || rest.startsWith('../')) return rest;
  const dot = rest.indexOf('/./');
  return dot >= 0 ? rest.slice(dot + 1) : `./${rest.replace(/^~\//, 'node_modules/')}`;
}

// Sentry src/sentry/lang/javascript/utils.py (`generate_module`, CLEAN_MODULE_RE, VERSION_RE).
const CLEAN_MODULE_RE = /^(?:\/|(?:(?:java)?scripts?|js|build|static|node_modules|bower_components|[_.~].*?|v?(?:\d+\.)*\d+)\/)+|(?:[-.][a-f0-9]{7,}$)/i;
const VERSION_RE = /^[a-f0-9]{32}|[a-f0-9]{40}$/i;

/** The module of an http(s), webpack or app:// source: `http://x.com/js/foo/bar.js` → `foo/bar`. */
export function generateModule(src: string): string | null {
  if (!/^(https?|webpack|app):/.test(src)) return null;
  let p = stripQuery(src.replace(/^[a-z]+:\/\/[^/]*/i, '')).split('#')[0];
  p = p.replace(/\.[^./]*$/, '').replace(/\.min$/, '');
  const tokens = p.split('/');
  for (let i = 0; i < tokens.length; i++) if (VERSION_RE.test(tokens[i])) return tokens.slice(i + 1).join('/');
  return p.replace(CLEAN_MODULE_RE, '') || '<unknown module>';
}

/** `a.b.b.c` → `a.{b#2}.c` (symbolicator `fold_function_name`). */
export function foldFunctionName(name: string): string {
  const parts = name.split('.');
  if (parts.length < 3) return name;
  const out: string[] = [];
  for (let i = 0; i < parts.length; ) {
    let j = i;
    while (j + 1 < parts.length && parts[j + 1] === parts[i]) j++;
    out.push(j > i ? `{${parts[i]}#${j - i + 1}}` : parts[i]);
    i = j + 1;
  }
  return out.join('.');
}
