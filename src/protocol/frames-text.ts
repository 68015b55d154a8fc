/**
 * The client's own JSON text of each stack's frames, kept while nothing changes the frames, so the
 * stored body reuses it instead of writing the frames out again: they are most of an event's text
 * (86 % of the benchmark's), and writing them was most of `JSON.stringify`'s time per event.
 *
 * The worker splits a payload's `"frames":[...]` arrays off before parsing (`splitFrames`), parses
 * each on its own, and normalization keeps the text of a stack it did not change
 * (normalize-stacktrace.ts). Every later step that changes frames forgets the text
 * (`framesChanged`): scrubbing, in-app defaults, source maps. The text stands for exactly the
 * parsed values (whitespace and number spelling aside), so the stored body reads back the same.
 */

/**
 * Kept on the frames array itself, under a symbol that JSON and the rest of the code never see: a
 * WeakMap entry per stack cost about 30 µs per event (its table holds every stack of the young
 * generation until a collection clears it).
 */
const TEXT = Symbol('framesText');

type WithText = { [TEXT]?: string };

/** Remembers `text` as the JSON of `frames` (an array parsed from it and not changed since). */
export function rememberFramesText(frames: unknown[], text: string): void {
  (frames as WithText)[TEXT] = text;
}

/** Forgets the text of `frames`: a step changed them, or may have. */
export function framesChanged(frames: unknown): void {
  if (Array.isArray(frames) && (frames as WithText)[TEXT] !== undefined) (frames as WithText)[TEXT] = undefined;
}

/** The client's text of `frames`, if they are still exactly what it says. */
export function framesText(frames: unknown): string | undefined {
  return Array.isArray(frames) ? (frames as WithText)[TEXT] : undefined;
}

/** A frames array split off a payload: its values and its text. */
export interface FramesPart {
  frames: unknown[];
  text: string;
}

const KEY = '"frames"';
/** Stands in a split payload for a frames array; random per process, so no client can send one. */
const MARKER = `\u0000frames-${Math.random().toString(36).slice(2, 12)}-`;
/** Candidate ends tried per array before it is left in place. */
const MAX_TRIES = 4;

/**
 * Splits each non-empty `"frames":[ ... ]` array of objects off a payload that is valid JSON (ingest
 * checked it): the text left has a marker string in each one's place, and `parts` maps each
 * marker to the array parsed on its own and its text. Null when there is none.
 *
 * A match of `"frames"` followed by a colon is always a key: a quote inside a string is escaped,
 * and the one after `frames` would end the string, so a colon follows only a key. The array ends at
 * a `}]` (its last object closes), and the first candidate whose text parses on its own is its end:
 * a value's text cannot parse as one value if it stops early or runs on.
 */
export function splitFrames(payload: string): { text: string; parts: Map<string, FramesPart> } | null {
  let k = payload.indexOf(KEY);
  if (k < 0) return null;
  const parts = new Map<string, FramesPart>();
  let text = '';
  let last = 0;
  for (; k >= 0; k = payload.indexOf(KEY, k + 1)) {
    const start = arrayAfterKey(payload, k + KEY.length);
    if (start < 0 || payload.charCodeAt(start + 1) === 0x5d /* ] */) continue;
    let end = -1;
    let frames: unknown;
    let close = payload.indexOf('}]', start);
    for (let tries = 0; close >= 0 && tries < MAX_TRIES; tries++) {
      try {
        frames = JSON.parse(payload.slice(start, close + 2));
        end = close + 2;
        break;
      } catch {
        close = payload.indexOf('}]', close + 1);
      }
    }
    if (end < 0 || !Array.isArray(frames)) continue;
    const marker = `${MARKER}${parts.size}`;
    text += `${payload.slice(last, start)}"${marker.replace('\u0000', '\\u0000')}"`;
    parts.set(marker, { frames, text: payload.slice(start, end) });
    last = end;
    k = end - 1;
  }
  if (parts.size === 0) return null;
  return { text: text + payload.slice(last), parts };
}

/** Where the `[` of `: [` stands after a key ending at `i` (JSON whitespace allowed), or -1. */
function arrayAfterKey(s: string, i: number): number {
  i = skipSpace(s, i);
  if (s.charCodeAt(i) !== 0x3a /* : */) return -1;
  i = skipSpace(s, i + 1);
  return s.charCodeAt(i) === 0x5b /* [ */ ? i : -1;
}

function skipSpace(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = s.charCodeAt(++i));
  return i;
}
