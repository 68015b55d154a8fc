/**
 * Reads an artifact bundle as sentry-cli uploads it: symbolic's SourceBundle, i.e. `SYSB` + a
 * little-endian u32 version + a ZIP archive whose `manifest.json` lists each file's type, URL and
 * headers (protocol.md §7.2; symbolic `symbolic-debuginfo/src/sourcebundle/mod.rs`). The ZIP
 * writer continues on the same stream, so its offsets count the 8-byte prefix; a ZIP without the
 * prefix (or with offsets from 0) is read too.
 *
 * Left out: `indexed_ram_bundle` contents (indexed, never resolved) and bundle signatures.
 */
import { unzipSync, type Unzipped } from 'fflate';
import { MAX_ARTIFACT_SIZE } from './limits.js';

export interface BundleFile {
  /** Path inside the archive (`files/_/_/app.min.js`). */
  path: string;
  type: string;
  url: string;
  headers: Record<string, string>;
  debugId: string | null;
  content: Uint8Array;
}

export interface Bundle {
  bundleId: string | null;
  release: string | null;
  dist: string | null;
  files: BundleFile[];
}

export class BundleError extends Error {}

function unzip(data: Uint8Array): Unzipped {
  const filter = (f: { originalSize: number }) => f.originalSize <= MAX_ARTIFACT_SIZE;
  try {
    return unzipSync(data, { filter });
  } catch (first) {
    // Offsets relative to the ZIP itself, not the stream: slice the prefix off and retry.
    if (data.byteLength > 8 && data[0] === 0x53 && data[1] === 0x59) {
      try {
        return unzipSync(data.subarray(8), { filter });
      } catch {
        /* report the first error */
      }
    }
    throw new BundleError(`not a readable source bundle: ${(first as Error).message}`);
  }
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/** Normalizes a debug id to Sentry's lowercase dashed UUID form (drops a trailing age/appendix). */
export function normalizeDebugId(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const hex = raw.toLowerCase().replace(/-/g, '').slice(0, 32);
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function parseBundle(data: Uint8Array): Bundle {
  const files = unzip(data);
  const manifestBytes = files['manifest.json'];
  if (!manifestBytes) throw new BundleError('source bundle has no manifest.json');
  let manifest: any;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes));
  } catch {
    throw new BundleError('manifest.json is not JSON');
  }
  const out: BundleFile[] = [];
  const entries = manifest?.files && typeof manifest.files === 'object' ? Object.entries(manifest.files as Record<string, any>) : [];
  for (const [path, info] of entries) {
    const content = files[path];
    if (!content || !info || typeof info !== 'object') continue;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((info.headers ?? {}) as Record<string, unknown>)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
    out.push({
      path,
      type: str(info.type) ?? 'source',
      url: str(info.url) ?? `~/${path.replace(/^files\/_\/_\//, '')}`,
      headers,
      debugId: normalizeDebugId(headers['debug-id'] ?? headers['debug_id']),
      content,
    });
  }
  const attrs = manifest?.attributes && typeof manifest.attributes === 'object' ? manifest.attributes : manifest;
  return { bundleId: normalizeDebugId(attrs?.debug_id ?? attrs?.bundle_id), release: str(attrs?.release), dist: str(attrs?.dist), files: out };
}
