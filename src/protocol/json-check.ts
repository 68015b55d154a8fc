/**
 * Checks that bytes hold one JSON document without building it: the ingest answers 400 for broken
 * JSON, while only the worker needs the values. `JSON.parse` of a corpus event (about 15 KB) costs
 * the ingest 55–75 µs, most of it making the objects and strings it then drops; this scan of the
 * bytes costs a fraction of that (docs/decisions.md).
 *
 * It accepts exactly what `JSON.parse(bytes.toString('utf8'))` accepts (a leading BOM skipped, as
 * parseJson does): bytes of 0x80 and above are allowed only inside strings, where the UTF-8 decoder
 * turns any broken sequence into U+FFFD without swallowing the ASCII byte after it, so they never
 * decide validity. json-check.test.ts holds it to `JSON.parse` on corpus events and on many
 * thousands of mutated documents.
 *
 * Most of an SDK event's bytes are its stacks' frames, and an application sends the same frames
 * again and again. So, given a seed (the project), a `"frames"` array whose bytes this process
 * checked valid before, for the same project, is skipped: its end is looked for (the first `}]`),
 * and the bytes up to it are taken as checked when their xxHash64 is one of the arrays checked
 * before. Equal bytes are the same complete value wherever they stand, so the answer is the same;
 * a hash collision could at worst let broken JSON of a project's own through to the worker, which
 * drops it with an `invalid` outcome. Finding and hashing 12 KB of frames took about 4 µs against
 * about 17 µs to check them.
 */
import xxhash from 'xxhash-wasm';

const { h64Raw } = await xxhash();

/** What the document's top-level value is. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'literal';
/** Bytes that end the plain run of a string: `"`, `\` and the control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[0x22] = 1;
STRING_STOP[0x5c] = 1;

/** The characters allowed after `\` (besides `u`). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** JSON's whitespace: space, tab, line feed, carriage return. */
const SPACE = new Uint8Array(256);
for (const c of ' \t\n\r') SPACE[c.charCodeAt(0)] = 1;

const OBJECT = 1;
const ARRAY = 2;

/**
 * Index after the string whose opening quote is just before `i`, or -1. The plain run is read
 * eight bytes a step while none of them is a stop, then byte by byte: on corpus events the whole
 * check took 26 → 20 µs, as most of a document's bytes are inside strings.
 */
function stringEnd(b: Uint8Array, i: number, n: number): number {
  const last4 = n - 4;
  for (;;) {
    while (i <= last4 && (STRING_STOP[b[i]] | STRING_STOP[b[i + 1]] | STRING_STOP[b[i + 2]] | STRING_STOP[b[i + 3]]) === 0) {
      i += 4;
      if (i > last4 || (STRING_STOP[b[i]] | STRING_STOP[b[i + 1]] | STRING_STOP[b[i + 2]] | STRING_STOP[b[i + 3]]) !== 0) break;
      i += 4;
    }
    while (i < n && STRING_STOP[b[i]] === 0) i++;
    if (i >= n) return -1;
    const c = b[i];
    if (c === 0x22) return i + 1;
    if (c !== 0x5c) return -1; // a raw control character
    const e = b[i + 1];
    if (e === 0x75 /* u */) {
      if (i + 5 >= n || !HEX[b[i + 2]] || !HEX[b[i + 3]] || !HEX[b[i + 4]] || !HEX[b[i + 5]]) return -1;
      i += 6;
    } else if (i + 1 < n && SIMPLE_ESCAPE[e]) {
      i += 2;
    } else {
      return -1;
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Index after the number that starts at `i`, or -1. */
function numberEnd(b: Uint8Array, i: number, n: number): number {
  if (b[i] === 0x2d /* - */) i++;
  if (i >= n) return -1;
  if (b[i] === 0x30) i++;
  else if (b[i] >= 0x31 && b[i] <= 0x39) while (i < n && isDigit(b[i])) i++;
  else return -1;
  if (i < n && b[i] === 0x2e /* . */) {
    i++;
    if (i >= n || !isDigit(b[i])) return -1;
    while (i < n && isDigit(b[i])) i++;
  }
  if (i < n && (b[i] === 0x65 || b[i] === 0x45) /* e E */) {
    i++;
    if (i < n && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if (i >= n || !isDigit(b[i])) return -1;
    while (i < n && isDigit(b[i])) i++;
  }
  return i;
}

/** Index after `true`, `false` or `null` at `i`, whose first byte is `c`, or -1. */
function literalEnd(b: Uint8Array, i: number, n: number, c: number): number {
  if (c === 0x74) return i + 3 < n && b[i + 1] === 0x72 && b[i + 2] === 0x75 && b[i + 3] === 0x65 ? i + 4 : -1;
  if (c === 0x66) return i + 4 < n && b[i + 1] === 0x61 && b[i + 2] === 0x6c && b[i + 3] === 0x73 && b[i + 4] === 0x65 ? i + 5 : -1;
  return i + 3 < n && b[i + 1] === 0x75 && b[i + 2] === 0x6c && b[i + 3] === 0x6c ? i + 4 : -1;
}

/** The key `keyEnd` read last was `"frames"`. */
let framesKey = false;
/** `keyEnd` read a `"vars"` key since this was last cleared. */
let varsKey = false;

/** Index after an object key at `i` (after optional space) and its colon, or -1. */
function keyEnd(b: Uint8Array, i: number, n: number): number {
  while (i < n && SPACE[b[i]] === 1) i++;
  if (i >= n || b[i] !== 0x22) return -1;
  const start = i;
  if ((i = stringEnd(b, i + 1, n)) < 0) return -1;
  framesKey = i - start === 8 && b[start + 1] === 0x66 && b[start + 2] === 0x72 && b[start + 3] === 0x61 && b[start + 4] === 0x6d && b[start + 5] === 0x65 && b[start + 6] === 0x73;
  if (i - start === 6 && b[start + 1] === 0x76 && b[start + 2] === 0x61 && b[start + 3] === 0x72 && b[start + 4] === 0x73) varsKey = true;
  while (i < n && SPACE[b[i]] === 1) i++;
  return i < n && b[i] === 0x3a /* : */ ? i + 1 : -1;
}

/** xxHash64 of `"frames"` arrays checked valid, seeded with their project (`checkJson`). */
const checkedFrames = new Set<bigint>();
/** About 40 bytes an entry. */
const CHECKED_FRAMES_MAX = 20_000;
const FRAMES_END = Buffer.from('}]');

/** `"frames"` arrays skipped as checked before, and bytes searched and hashed to find them (tests). */
export const framesSkipped = { count: 0, examined: 0 };
/** Candidate ends (`}]`) tried per array: a `}]` inside it (in a string, or a list of objects) comes first. */
const MAX_TRIES = 4;
/**
 * Bytes `checkedArrayEnd` may still search and hash in the document being checked, starting at twice its
 * length: a document of many `"frames"` keys whose arrays do not end soon would otherwise cost a
 * search to its end for each of them.
 */
let skipBudget = 0;

/** Index after the array at `i` when its bytes were checked valid before (same seed), else -1. */
function checkedArrayEnd(b: Uint8Array, i: number, seed: bigint): number {
  const limit = Math.min(b.byteLength, i + skipBudget);
  if (limit - i < 2) return -1;
  const buf = Buffer.from(b.buffer, b.byteOffset, limit);
  let spent = 0;
  let found = -1;
  let end = buf.indexOf(FRAMES_END, i);
  for (let tries = 0; end >= 0 && tries < MAX_TRIES; tries++, end = buf.indexOf(FRAMES_END, end + 1)) {
    if (spent + end + 2 - i > skipBudget) break;
    spent += end + 2 - i;
    if (checkedFrames.has(h64Raw(b.subarray(i, end + 2), seed))) {
      found = end + 2;
      break;
    }
  }
  spent += found < 0 && end < 0 ? limit - i : 0; // searched to the limit
  skipBudget -= spent;
  framesSkipped.examined += spent;
  if (found >= 0) framesSkipped.count++;
  return found;
}

function rememberChecked(b: Uint8Array, start: number, end: number, seed: bigint): void {
  if (checkedFrames.size >= CHECKED_FRAMES_MAX) checkedFrames.clear();
  checkedFrames.add(h64Raw(b.subarray(start, end), seed));
}

/**
 * The kind of the one JSON value `bytes` hold, or null when `JSON.parse` of their UTF-8 text would
 * throw. Nesting depth is bounded only by memory, as it is for `JSON.parse`. With `seed` (the
 * project), `"frames"` arrays checked valid before with the same seed are skipped (see above).
 */
export function checkJson(bytes: Uint8Array, seed?: bigint): JsonKind | null {
  const b = bytes;
  const n = b.length;
  let i = n >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  let stack = new Uint8Array(64);
  let depth = 0;
  let kind: JsonKind | null = null;
  /** The `"frames"` array being checked: where it starts, and the depth inside it (0: none). */
  let framesStart = -1;
  let framesDepth = 0;
  let checkedEnd: number;
  framesKey = false;
  skipBudget = 2 * n;
  for (;;) {
    // A value starts at i (after optional space).
    while (i < n && SPACE[b[i]] === 1) i++;
    if (i >= n) return null;
    const c = b[i];
    const afterFramesKey = framesKey;
    framesKey = false;
    if (c === 0x22) {
      kind ??= 'string';
      i = stringEnd(b, i + 1, n);
    } else if (c === 0x5b /* [ */ && afterFramesKey && seed !== undefined && framesDepth === 0 && (checkedEnd = checkedArrayEnd(b, i, seed)) >= 0) {
      i = checkedEnd; // checked before: go on after it
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      kind ??= c === 0x7b ? 'object' : 'array';
      const start = i;
      i++;
      while (i < n && SPACE[b[i]] === 1) i++;
      if (i < n && b[i] === c + 2 /* } is { + 2, ] is [ + 2 */) {
        i++;
      } else {
        if (c === 0x5b && afterFramesKey && seed !== undefined && framesDepth === 0) {
          framesStart = start;
          framesDepth = depth + 1;
          varsKey = false;
        }
        if (depth === stack.length) {
          const grown = new Uint8Array(stack.length * 2);
          grown.set(stack);
          stack = grown;
        }
        stack[depth++] = c === 0x7b ? OBJECT : ARRAY;
        // An object's first key and its colon; the value follows at the top of the loop.
        if (c === 0x7b && (i = keyEnd(b, i, n)) < 0) return null;
        continue;
      }
    } else if (c === 0x2d || isDigit(c)) {
      kind ??= 'number';
      i = numberEnd(b, i, n);
    } else if (c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */) {
      kind ??= 'literal';
      i = literalEnd(b, i, n, c);
    } else {
      return null;
    }
    if (i < 0) return null;
    // After a value: close containers, or go on to the next member.
    for (;;) {
      while (i < n && SPACE[b[i]] === 1) i++;
      if (depth === 0) return i === n ? kind : null;
      if (i >= n) return null;
      const d = b[i];
      const top = stack[depth - 1];
      if (d === 0x2c /* , */) {
        i++;
        if (top === OBJECT && (i = keyEnd(b, i, n)) < 0) return null;
        break;
      }
      if ((d === 0x7d && top === OBJECT) || (d === 0x5d && top === ARRAY)) {
        if (depth === framesDepth) {
          // Frames with local variables (sentry-python's default) differ from event to event.
          if (!varsKey) rememberChecked(b, framesStart, i + 1, seed!);
          framesDepth = 0;
        }
        depth--;
        i++;
        continue;
      }
      return null;
    }
  }
}
