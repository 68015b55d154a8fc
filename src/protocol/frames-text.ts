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
 * Two changes normalization makes to most JavaScript stacks are followed in the text instead: the
 * `"function":"?"` members it drops are taken out, and the `abs_path` it fills in from `filename`
 * (@sentry/node sends none) is added (`withAbsPaths`).
 *
 * Stacks repeat from event to event, so a text that went through every step unchanged is
 * remembered by its SHA-256 (`rememberStack`, a few hundred bytes each, never the text). The next
 * event with the same text is not parsed at all: its stack is a `LazyStacktrace`, whose frames are
 * parsed only if a step reads them. Grouping takes its digest from the hash and the memo's in-app
 * flags; scrubbing skips it under a configuration it was clean under; the stored body takes the
 * text. Source maps, inbound filters and dictionary sampling read the frames, which parses them.
 * A text with local variables (sentry-python's default) is kept for the body but neither hashed
 * nor remembered: no two events' variables are the same.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** What is known of a stack text that went through every step unchanged. */
export interface KnownStack {
  /** Each frame's `in_app` as the client sent it (`inAppFlags`). */
  inApp: string;
  /** Every frame has a boolean `in_app`: the in-app defaults have nothing to fill in. */
  allInApp: boolean;
  /** Scrubbing configurations (pipeline/scrub.ts `scrubConfigKey`) that changed nothing in it. */
  scrubClean: string[];
  /** Normalization drops its frames' `function: "?"` members, and only those (`Kept`). */
  dropsUnknownFunctions: boolean;
  /**
   * Normalization adds an `abs_path` member to its frames (`withAbsPaths`). Where they go is found
   * again when its text is read, which a body that refers to the stored text never does: kept, the
   * places took about 500 bytes an entry, 5 MB of the worker's heap with 10,000 issues.
   */
  addsAbsPaths: boolean;
}

/** About 320 bytes an entry: 3 MB for the stacks of the 10,000 busiest issues. */
const known = new LRUCache<string, KnownStack>({ max: 10_000 });

/**
 * Frames' `in_app` values as one character each (`t`, `f`, `n` for unset): kept for every known
 * stack and grouping result, where an array of them took about 250 bytes for 30 frames.
 */
export function inAppFlags(values: readonly (boolean | null)[]): string {
  // Joined, not built with `+=`: V8 keeps a string built a character at a time as a chain of
  // concatenations, 32 bytes per character, for as long as the memos keep it (12 MB of the
  // worker's 54 MB of live heap with 10,000 stacks remembered).
  return values.map((v) => (v === true ? 't' : v === false ? 'f' : 'n')).join('');
}

/** The `in_app` value at `index` of `inAppFlags` text. */
export function inAppFlag(flags: string, index: number): boolean | null {
  const c = flags.charCodeAt(index);
  return c === 0x74 /* t */ ? true : c === 0x66 /* f */ ? false : null;
}

/**
 * Kept on the frames array itself, under a symbol that JSON and the rest of the code never see: a
 * WeakMap entry per stack cost about 30 µs per event (its table holds every stack of the young
 * generation until a collection clears it).
 */
const TEXT = Symbol('framesText');

/** A stack's text that says exactly what its frames are, as normalization left them. */
export class Kept {
  #text: string | undefined;
  readonly #sent: string;

  /**
   * `text`: the frames' JSON when already made; otherwise `sent` (the client's text) with the
   * `abs_path` members added and the `"function":"?"` ones taken out, made the first time it is read.
   */
  constructor(
    sent: string,
    /**
     * SHA-256 of the client's text as it was sent; null for a stack with local variables, which
     * differ from event to event: it is never seen twice, and grouping, which does not read them,
     * takes its digest from the frames' fields instead.
     */
    readonly hash: string | null,
    /** `text` is the client's with the `"function":"?"` members taken out. */
    readonly dropsUnknownFunctions: boolean,
    /** `text` is the client's with an `abs_path` member added to each frame that had none (`withAbsPaths`). */
    readonly addsAbsPaths: boolean,
    text?: string,
  ) {
    this.#sent = sent;
    this.#text = text;
  }

  /** The frames' JSON: the client's text, with normalization's changes made again. */
  get text(): string {
    if (this.#text === undefined) {
      let text = this.addsAbsPaths ? withAbsPaths(this.#sent).text : this.#sent;
      if (this.dropsUnknownFunctions) text = text.replace(UNKNOWN_FUNCTION, '');
      this.#text = text;
    }
    return this.#text;
  }
}

type WithText = { [TEXT]?: Kept };

/**
 * A stack whose frames text is known (`rememberStack`): its frames are parsed from the text the
 * first time something reads them. JSON.stringify writes them through `toJSON`.
 */
export class LazyStacktrace {
  [key: string]: unknown;
  // Private, so neither JSON nor a spread sees them.
  readonly #kept: Kept;
  readonly #knownStack: KnownStack;

  constructor(kept: Kept, knownStack: KnownStack) {
    this.#kept = kept;
    this.#knownStack = knownStack;
  }

  get kept(): Kept {
    return this.#kept;
  }

  get knownStack(): KnownStack {
    return this.#knownStack;
  }

  get frames(): unknown[] {
    // The text went through normalization unchanged before: parsing it is normalizing it.
    const frames = JSON.parse(this.#kept.text) as unknown[];
    (frames as WithText)[TEXT] = this.#kept;
    Object.defineProperty(this, 'frames', { value: frames, writable: true, enumerable: true, configurable: true });
    return frames;
  }

  set frames(value: unknown) {
    Object.defineProperty(this, 'frames', { value, writable: true, enumerable: true, configurable: true });
  }

  toJSON(): Record<string, unknown> {
    return { ...this, frames: this.frames };
  }
}

/**
 * A known stack's `Kept`: its text is the client's with normalization's changes of the first
 * sighting made again (`abs_path` members added, `"function":"?"` ones taken out), made only when
 * read. A body that refers to the stored text (nodestore format 4) never reads it: for a 30-frame
 * @sentry/node stack that saved 4 µs and a 12 KB string per event.
 */
export function keptFromKnown(sent: string, hash: string | null, known: KnownStack): Kept {
  return new Kept(sent, hash, known.dropsUnknownFunctions, known.addsAbsPaths);
}

/** The stack's frames have not been parsed yet (reading `frames` would parse them). */
export function isUnparsed(stack: unknown): stack is LazyStacktrace {
  return stack instanceof LazyStacktrace && !Object.hasOwn(stack, 'frames');
}

/**
 * Remembers `text` as the JSON of `frames` (an array parsed from the client's text with SHA-256
 * `textHash` and not changed since, but for the unknown functions `text` leaves out).
 */
export function rememberFramesText(frames: unknown[], text: string, textHash: string | null, dropsUnknownFunctions = false, addsAbsPaths = false): void {
  (frames as WithText)[TEXT] = new Kept(text, textHash, dropsUnknownFunctions, addsAbsPaths, text);
}

/**
 * A frames text (a JSON array of objects) with `,"abs_path":` and the frame's own `filename` value
 * added at the end of each frame that has a non-empty string `filename` and no `abs_path`
 * member, as normalization fills it in (Relay's `process_non_raw_frame`; @sentry/node sends no
 * `abs_path`); and the indices of those frames. Only members of the frame object itself count, not
 * of objects nested in it; of a key given twice, the last, as `JSON.parse` takes it.
 */
export function withAbsPaths(text: string): { text: string; filled: number[] } {
  const filled: number[] = [];
  const at: number[] = [];
  let depth = 0;
  let frame = -1;
  /** Where the frame's `filename` string starts and ends (-1: none, or not a string). */
  let nameStart = -1;
  let nameEnd = -1;
  let hasAbsPath = false;
  /** Which frame-level key's value comes next: 1 filename, 2 abs_path, 0 another. */
  let key = 0;
  let inMember = false;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      if (depth === 2) {
        if (expectKey) {
          const length = end - i - 1;
          key = length === 8 && text.startsWith('filename', i + 1) ? 1 : length === 8 && text.startsWith('abs_path', i + 1) ? 2 : 0;
          inMember = true;
          expectKey = false;
        } else if (inMember) {
          if (key === 1) {
            nameStart = i;
            nameEnd = end + 1;
          }
          inMember = false;
        }
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (depth === 2) inMember = false; // a member whose value is an object or array
      depth++;
      if (depth === 2 && c === 0x7b) {
        frame++;
        nameStart = -1;
        hasAbsPath = false;
        expectKey = true;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (depth === 2 && c === 0x7d && nameStart >= 0 && nameEnd - nameStart > 2 && !hasAbsPath) {
        at.push(i, nameStart, nameEnd);
        filled.push(frame);
      }
      depth--;
    } else if (depth === 2) {
      if (c === 0x3a /* : */) {
        if (inMember && key === 2) hasAbsPath = true;
      } else if (c === 0x2c /* , */) {
        expectKey = true;
        inMember = false;
      } else if (inMember && key === 1 && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        nameStart = -1; // a literal (null, a number): not a string
        inMember = false;
      }
    }
  }
  return { text: applyAbsPaths(text, at), filled };
}

/** A frames text with `abs_path` members added: per member, where it goes and where its value's text starts and ends. */
function applyAbsPaths(text: string, at: number[]): string {
  if (at.length === 0) return text;
  const out: string[] = [];
  let last = 0;
  for (let k = 0; k < at.length; k += 3) {
    out.push(text.slice(last, at[k]), ',"abs_path":', text.slice(at[k + 1], at[k + 2]));
    last = at[k];
  }
  out.push(text.slice(last));
  return out.join('');
}

/** Index of the quote that closes the JSON string opening at `i`. */
function stringEnd(s: string, i: number): number {
  for (let q = s.indexOf('"', i + 1); q >= 0; q = s.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (s.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return s.length;
}

/** `"function":"?"` members as JSON.stringify writes them, with the comma that goes with each. */
export const UNKNOWN_FUNCTION = /"function":"\?",|,"function":"\?"(?=\})/g;

/** Forgets the text of `frames`: a step changed them, or may have. */
export function framesChanged(frames: unknown): void {
  if (Array.isArray(frames) && (frames as WithText)[TEXT] !== undefined) (frames as WithText)[TEXT] = undefined;
}

/** The client's text of a stack's frames and its hash, if they still say exactly what the frames are; never parses them. */
export function keptText(stack: unknown): Kept | undefined {
  if (isUnparsed(stack)) return stack.kept;
  if (typeof stack !== 'object' || stack === null) return undefined;
  const frames = (stack as { frames?: unknown }).frames;
  return Array.isArray(frames) ? (frames as WithText)[TEXT] : undefined;
}

/** The client's text of `frames`, if they are still exactly what it says. */
export function framesText(frames: unknown): string | undefined {
  return Array.isArray(frames) ? (frames as WithText)[TEXT]?.text : undefined;
}

/**
 * Records that a stack's kept text went through every step unchanged under scrubbing
 * configuration `scrubKey`: the next event with the same text need not parse it.
 */
export function rememberStack(stack: unknown, scrubKey: string): void {
  if (isUnparsed(stack)) {
    if (!stack.knownStack.scrubClean.includes(scrubKey)) stack.knownStack.scrubClean.push(scrubKey);
    return;
  }
  const kept = keptText(stack);
  if (!kept?.hash) return;
  const entry = known.get(kept.hash);
  if (entry) {
    if (!entry.scrubClean.includes(scrubKey)) entry.scrubClean.push(scrubKey);
    return;
  }
  const frames = (stack as { frames: unknown[] }).frames;
  const inApp = frames.map((f) => {
    const v = (f as { in_app?: unknown }).in_app;
    return typeof v === 'boolean' ? v : null;
  });
  known.set(kept.hash, { inApp: inAppFlags(inApp), allInApp: inApp.every((v) => v !== null), scrubClean: [scrubKey], dropsUnknownFunctions: kept.dropsUnknownFunctions, addsAbsPaths: kept.addsAbsPaths });
}

/** Forgets every remembered stack (tests). */
export function forgetKnownStacks(): void {
  known.clear();
}

/** A frames array split off a payload: its text and hash, and its values unless the text is known. */
export interface FramesPart {
  text: string;
  /** Null where the text holds local variables (`Kept.hash`). */
  hash: string | null;
  frames?: unknown[];
  knownStack?: KnownStack;
}

const KEY = '"frames"';
/** Stands in a split payload for a frames array; random per process, so no client can send one. */
const MARKER = `\u0000frames-${Math.random().toString(36).slice(2, 12)}-`;
/** Candidate ends tried per array before it is left in place. */
const MAX_TRIES = 4;

const textHash = (text: string) => hash('sha256', text, 'base64');

/**
 * Splits each non-empty `"frames": [ ... ]` array of objects off a payload that is valid JSON
 * (ingest checked it): the text left has a marker string in each one's place, and `parts` maps
 * each marker to the array's text, its hash, and its values parsed on their own, or what is known
 * of it when the text was seen before. Null when there is none.
 *
 * A match of `"frames"` followed by a colon is always a key: a quote inside a string is escaped,
 * and the one after `frames` would end the string, so a colon follows only a key. The array ends at
 * a `}]` (its last object closes), and the first candidate whose text parses on its own, or is a
 * text seen before, is its end: a value's text cannot parse as one value if it stops early or runs on.
 */
export function splitFrames(payload: string): { text: string; parts: Map<string, FramesPart> } | null {
  let k = payload.indexOf(KEY);
  if (k < 0) return null;
  const parts = new Map<string, FramesPart>();
  let text = '';
  let last = 0;
  // Characters the candidates may take to copy, hash and parse: a payload of many `"frames"` keys
  // whose arrays end late would otherwise cost a pass to its end for each key (a 150 KB event took
  // 0.8 s). Past it, the arrays left are parsed with the rest of the payload.
  let budget = 2 * payload.length;
  const initial = budget;
  for (; k >= 0 && budget > 0; k = payload.indexOf(KEY, k + 1)) {
    const start = arrayAfterKey(payload, k + KEY.length);
    if (start < 0 || payload.charCodeAt(start + 1) === 0x5d /* ] */) continue;
    let part: FramesPart | undefined;
    let close = payload.indexOf('}]', start);
    for (let tries = 0; close >= 0 && tries < MAX_TRIES; tries++) {
      if ((budget -= close + 2 - start) < 0) break;
      const candidate = payload.slice(start, close + 2);
      // Text that mentions "vars" may hold local variables: not hashed, never looked up. (Searching
      // for `vars` first: a pattern that begins with `"` stops at every quote, 12 µs for 12 KB.)
      const h = candidate.includes('vars') && candidate.includes('"vars"') ? null : textHash(candidate);
      const knownStack = h === null ? undefined : known.get(h);
      if (knownStack && h !== null) {
        part = { text: candidate, hash: h, knownStack };
        break;
      }
      try {
        const frames: unknown = JSON.parse(candidate);
        if (Array.isArray(frames)) part = { text: candidate, hash: h, frames };
        break;
      } catch {
        close = payload.indexOf('}]', close + 1);
      }
    }
    if (!part) continue;
    const marker = `${MARKER}${parts.size}`;
    text += `${payload.slice(last, start)}"${marker.replace('\u0000', '\\u0000')}"`;
    parts.set(marker, part);
    last = start + part.text.length;
    k = last - 1;
  }
  splitFramesExamined.chars += initial - Math.max(budget, 0);
  if (parts.size === 0) return null;
  return { text: text + payload.slice(last), parts };
}

/** Characters `splitFrames` copied, hashed and parsed as candidates, in all (tests). */
export const splitFramesExamined = { chars: 0 };

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
