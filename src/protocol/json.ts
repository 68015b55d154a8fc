/**
 * JSON parsing for client payloads, with Sentry's one sanctioned extension: the non-finite
 * number tokens `NaN`, `Infinity` and `-Infinity` that Python's `json.dumps` emits.
 *
 * Relay patches these for `raven-python/` and `sentry-python/` clients on `/store/`
 * (relay `endpoints/store.rs`, protocol.md §2.2); like Relay we turn them into `null`, and only
 * outside strings. The normal path is a single `JSON.parse`; the tokenizer runs only after a
 * failure and only when the caller allows non-finite numbers.
 * Left out: deciding which clients get the leniency (the caller knows `sentry_client`).
 */
import { ProtocolError } from './errors.js';
import { checkJson, type JsonKind } from './json-check.js';

export type { JsonKind } from './json-check.js';

/** Options for {@link parseJson}. */
export interface ParseJsonOptions {
  /** Replace bare `NaN`, `Infinity`, `-Infinity` tokens (outside strings) with `null`. */
  allowNonFinite?: boolean;
}

/**
 * Parses JSON text (a UTF-8 Buffer or a string; a leading BOM is ignored).
 * @throws ProtocolError `invalid_json` with the parser's message (which names the position).
 */
export function parseJson(text: string | Buffer, opts: ParseJsonOptions = {}): unknown {
  let s = typeof text === 'string' ? text : text.toString('utf8');
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  try {
    return JSON.parse(s);
  } catch (err) {
    if (opts.allowNonFinite) {
      const patched = replaceNonFinite(s);
      if (patched !== s) {
        try {
          return JSON.parse(patched);
        } catch {
          // Report the original error below: its positions refer to what the client sent.
        }
      }
    }
    throw new ProtocolError('invalid_json', `invalid JSON: ${describe(err, s)}`, 400);
  }
}

/**
 * What {@link parseJson} would accept, without building the value: the kind of the top-level value.
 * A document the byte scan rejects goes through `parseJson`, which either accepts it after all
 * (non-finite numbers, when allowed) or throws its `invalid_json` error with the position.
 * `projectId`: the project that sent it, whose stacks' frames checked before are not checked again
 * (json-check.ts).
 */
export function validateJson(bytes: Buffer, opts: ParseJsonOptions & { projectId?: number } = {}): JsonKind {
  const kind = checkJson(bytes, opts.projectId === undefined ? undefined : BigInt(opts.projectId));
  if (kind !== null) return kind;
  const value = parseJson(bytes, opts);
  if (Array.isArray(value)) return 'array';
  if (value === null || typeof value === 'boolean') return 'literal';
  return typeof value as 'object' | 'string' | 'number';
}

function describe(err: unknown, s: string): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/position \d+/.test(message)) return message;
  if (s.trim() === '') return 'empty document';
  return message;
}

const TOKENS = ['-Infinity', 'Infinity', 'NaN'];

/**
 * Replaces `NaN`, `Infinity` and `-Infinity` outside string literals with `null`.
 * String contents (including escaped quotes) are left untouched.
 */
export function replaceNonFinite(s: string): string {
  let out = '';
  let last = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i += 1;
      while (i < s.length) {
        const d = s.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i += 1;
      }
      i += 1;
      continue;
    }
    if (c === 0x2d /* - */ || c === 0x49 /* I */ || c === 0x4e /* N */) {
      const token = TOKENS.find((t) => s.startsWith(t, i));
      if (token && !isIdentChar(s.charCodeAt(i + token.length)) && !isIdentChar(s.charCodeAt(i - 1))) {
        out += s.slice(last, i) + 'null';
        i += token.length;
        last = i;
        continue;
      }
    }
    i += 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

function isIdentChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}
