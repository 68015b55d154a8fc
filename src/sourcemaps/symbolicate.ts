/**
 * JavaScript symbolication: maps each minified frame of a javascript/node event back to its
 * original file, line, column and function through uploaded source maps, and adds 5 lines of
 * context either side (protocol.md §7; symbolicator `crates/symbolicator-js/src/symbolication.rs`).
 *
 * A frame's file is found by debug id first (`debug_meta.images[].code_file` = the frame's
 * abs_path), else by the event's release + dist and the URL candidates of its abs_path. The
 * minified frames are kept in `raw_stacktrace`. Failures never drop the event: they become
 * `event.errors[]` entries with Sentry's types (js_no_source, js_invalid_sourcemap,
 * js_invalid_sourcemap_location, js_missing_sources_content) and the frame stays minified.
 *
 * Left out: scope names from parsing the minified source (symbolic's js-source-scopes); the
 * function name comes from the caller's call-site token, as Sentry's older processor did
 * (`get_function_for_token`), else the minified name stays. No scraping of remote files.
 */
import { originalPositionFor, sourceContentFor, type TraceMap } from '@jridgewell/trace-mapping';
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { framesChanged, isUnparsed, type EventError, type Frame, type NormalizedEvent, type Stacktrace } from '../protocol/index.js';
import { ArtifactLookup, type Artifact } from './artifacts.js';
import { normalizeDebugId } from './bundle.js';
import { applyContext, applyMinifiedContext } from './context-lines.js';
import { SYMBOLICATE_BUDGET_MS } from './limits.js';
import type { SourceCache } from './source-cache.js';
import type { CacheBackend } from '../services/cache/index.js';
import { candidateUrls, decodeDataUrl, fixupWebpackFilename, foldFunctionName, generateModule, joinPaths, sourceMapReference, stripHostname } from './urls.js';

export interface SymbolicateScope {
  db: Kysely<Database>;
  organizationId: number;
  projectId: number;
  cache: SourceCache;
  /** Shared cache for "does this release have files" (invalidated by uploads). */
  shared?: CacheBackend;
  budgetMs?: number;
}

interface ResolvedFile {
  minified: string | null;
  map: TraceMap | null;
  mapUrl: string | null;
  /** Text of a file that has no map (already original): context only. */
  resolvedWith: 'debug_id' | 'release';
}

const USELESS_NAMES = new Set(['<anonymous>', '__webpack_require__', '__webpack_modules__']);
const JS_PLATFORMS = new Set(['javascript', 'node']);

function skipFrame(f: Frame): boolean {
  const p = f.abs_path;
  return !p || typeof f.lineno !== 'number' || f.lineno <= 0 || /^(node:|internal\/|native|\[native code\]|<anonymous>)/.test(p);
}

function stacktracesOf(event: NormalizedEvent): { owner: { stacktrace?: Stacktrace | null; raw_stacktrace?: Stacktrace | null }; st: Stacktrace }[] {
  const out: { owner: any; st: Stacktrace }[] = [];
  for (const v of event.exception?.values ?? []) if (v.stacktrace?.frames?.length) out.push({ owner: v, st: v.stacktrace });
  for (const t of event.threads?.values ?? []) if (t.stacktrace?.frames?.length) out.push({ owner: t, st: t.stacktrace });
  return out;
}

export async function symbolicateEvent(event: NormalizedEvent, scope: SymbolicateScope): Promise<void> {
  if (!JS_PLATFORMS.has(event.platform)) return;
  // Whether there are files to map with is looked up before the frames are read: a stack known
  // from an earlier event is parsed only when it is read (protocol/frames-text.ts).
  const hasStack = (o: { stacktrace?: Stacktrace | null }) => isUnparsed(o.stacktrace) || !!o.stacktrace?.frames?.length;
  if (!event.exception?.values.some(hasStack) && !event.threads?.values.some(hasStack)) return;
  const images = new Map<string, string>();
  for (const img of event.debug_meta?.images ?? []) {
    const id = normalizeDebugId(img.debug_id);
    if (img.type === 'sourcemap' && typeof img.code_file === 'string' && id) images.set(img.code_file, id);
  }
  const lookup = new ArtifactLookup(scope.db, scope.organizationId, scope.projectId);
  const release = typeof event.release === 'string' && event.release ? event.release : null;
  const byRelease = release ? await lookup.hasReleaseArtifacts(release, scope.shared) : false;
  if (images.size === 0 && !byRelease) return;
  const stacks = stacktracesOf(event);
  // Frames are changed in place below: their client text no longer stands for them.
  for (const { st } of stacks) framesChanged(st.frames);

  const errors: EventError[] = [];
  const addError = (e: EventError) => {
    const key = JSON.stringify(e);
    if (!errors.some((x) => JSON.stringify(x) === key)) errors.push(e);
  };
  const loadText = async (a: Artifact): Promise<string | null> => {
    const key = `t:${a.row.sha1}`;
    const hit = scope.cache.text(key);
    if (hit !== undefined) return hit;
    const buf = await lookup.content(a);
    return buf ? scope.cache.setText(key, buf.toString('utf8')) : null;
  };

  // One resolution per abs_path per event.
  const files = new Map<string, Promise<ResolvedFile | null>>();
  const resolveFile = async (absPath: string): Promise<ResolvedFile | null> => {
    const debugId = images.get(absPath);
    if (debugId) {
      const [min, map] = await Promise.all([lookup.byDebugId(debugId, ['minified_source']), lookup.byDebugId(debugId, ['source_map'])]);
      if (!map) {
        addError({ type: 'js_no_source', url: absPath, debug_id: debugId });
        return null;
      }
      return loadMap(map, map.row.url, min ? await loadText(min) : null, 'debug_id');
    }
    if (!release || !byRelease || /\/node_modules\//.test(absPath)) return null;
    const min = await lookup.byUrl(release, event.dist ?? null, candidateUrls(absPath));
    if (!min) {
      addError({ type: 'js_no_source', url: absPath });
      return null;
    }
    const minText = await loadText(min);
    const ref = minText !== null ? sourceMapReference(min.headers, minText) : null;
    if (!ref) return { minified: minText, map: null, mapUrl: null, resolvedWith: 'release' };
    const inline = decodeDataUrl(ref);
    if (inline !== null) {
      const parsed = scope.cache.map(`inline:${min.row.sha1}`) ?? scope.cache.parseMap(`inline:${min.row.sha1}`, inline);
      if (!parsed.ok) addError({ type: 'js_invalid_sourcemap', url: min.row.url, reason: parsed.reason });
      return parsed.ok ? { minified: minText, map: parsed.map, mapUrl: min.row.url, resolvedWith: 'release' } : null;
    }
    const mapUrl = joinPaths(min.row.url, ref.split(/[?#]/)[0]);
    const map = await lookup.byUrl(release, event.dist ?? null, candidateUrls(mapUrl));
    if (!map) {
      addError({ type: 'js_no_source', url: mapUrl });
      return null;
    }
    return loadMap(map, mapUrl, minText, 'release');
  };
  const loadMap = async (a: Artifact, mapUrl: string, minified: string | null, how: ResolvedFile['resolvedWith']): Promise<ResolvedFile | null> => {
    const key = `m:${a.row.sha1}`;
    let parsed = scope.cache.map(key);
    if (!parsed) {
      const buf = await lookup.content(a);
      parsed = scope.cache.parseMap(key, buf ? buf.toString('utf8') : '');
    }
    if (!parsed.ok) {
      addError({ type: 'js_invalid_sourcemap', url: mapUrl, reason: parsed.reason });
      return null;
    }
    return { minified, map: parsed.map, mapUrl, resolvedWith: how };
  };

  const deadline = Date.now() + (scope.budgetMs ?? SYMBOLICATE_BUDGET_MS);
  let timedOut = false;
  for (const { owner, st } of stacks) {
    const raw = st.frames.map((f) => ({ ...f }));
    const callSiteNames: (string | null)[] = [];
    let changed = false;
    for (let i = 0; i < st.frames.length; i++) {
      const frame = st.frames[i];
      callSiteNames.push(null);
      if (skipFrame(frame)) continue;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      const absPath = frame.abs_path as string;
      if (!files.has(absPath)) files.set(absPath, resolveFile(absPath));
      const file = await files.get(absPath)!;
      if (!file) continue;
      if (file.minified !== null) applyMinifiedContext(raw[i], file.minified);
      if (!file.map) {
        // An uploaded file without a map is taken as original source: context only.
        if (file.minified !== null) applyContext(frame, file.minified, frame.lineno as number);
        changed = true;
        continue;
      }
      const pos = originalPositionFor(file.map, { line: frame.lineno as number, column: Math.max(0, (frame.colno ?? 1) - 1) });
      if (pos.source === null || pos.line === null) {
        addError({ type: 'js_invalid_sourcemap_location', column: frame.colno ?? null, row: frame.lineno, source: absPath, sourcemap: file.mapUrl });
        continue;
      }
      callSiteNames[i] = pos.name;
      const source = pos.source;
      const isWebpack = source.startsWith('webpack:');
      const origAbs = isWebpack ? source : joinPaths(file.mapUrl as string, source);
      let content = sourceContentFor(file.map, source);
      if (content === null && release && byRelease) {
        const original = await lookup.byUrl(release, event.dist ?? null, candidateUrls(origAbs));
        if (original) content = await loadText(original);
      }
      frame.abs_path = origAbs;
      frame.filename = isWebpack ? fixupWebpackFilename(source) : origAbs.startsWith('~/') ? origAbs : (stripHostname(origAbs) ?? origAbs);
      const mod = generateModule(isWebpack ? fixupWebpackFilename(source) : origAbs);
      if (mod && (isWebpack || /^(https?|app):/.test(origAbs))) frame.module = mod;
      frame.lineno = pos.line;
      frame.colno = (pos.column ?? 0) + 1;
      if (/\/node_modules\//.test(origAbs)) frame.in_app = false;
      frame.data = { ...(frame.data ?? {}), sourcemap: file.mapUrl, resolved_with: file.resolvedWith, symbolicated: true };
      delete frame.context_line;
      delete frame.pre_context;
      delete frame.post_context;
      if (content !== null) applyContext(frame, content, pos.line);
      else addError({ type: 'js_missing_sources_content', source: origAbs, sourcemap: file.mapUrl });
      changed = true;
    }
    // Function names: the caller's call-site token names the callee (frames are oldest first).
    for (let i = 1; i < st.frames.length; i++) {
      const name = callSiteNames[i - 1];
      const f = st.frames[i];
      if (!f.data?.symbolicated || !name || USELESS_NAMES.has(name)) continue;
      f.raw_function ??= f.function ?? null;
      f.function = foldFunctionName(name);
    }
    if (changed) owner.raw_stacktrace = { ...st, frames: raw };
  }
  if (timedOut) addError({ type: 'js_fetch_timeout', reason: `symbolication stopped after ${scope.budgetMs ?? SYMBOLICATE_BUDGET_MS} ms` });
  event.errors = [...(event.errors ?? []), ...errors];
}
