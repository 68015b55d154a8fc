/**
 * Stored bodies that reuse the client's text of a stack's frames (protocol/frames-text.ts,
 * save.ts `eventJson`): whatever the payload, the body must read back exactly as the event
 * written out whole would, and the client's text is reused only where no step changed the frames.
 * Each payload goes through the worker's steps twice: split (normalizeTask) and parsed whole.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeEach, describe, expect, test } from 'vitest';
import { buildEvent } from '../bench/corpus.js';
import { parseProjectOptions, type ProjectOptions } from '../db/models/project-options.js';
import { forgetKnownStacks, isUnparsed, splitFramesExamined, UNKNOWN_FUNCTION, withAbsPaths } from '../protocol/frames-text.js';
import { normalizeEvent, parseEnvelope, parseJson, type NormalizedEvent } from '../protocol/index.js';
import type { ProjectSettings } from './context.js';
import { clearGroupingMemo, groupingMemoSize, groupNormalizedEvent } from './group.js';
import { normalizeTask } from './normalize.js';
import { eventJson } from './save.js';
import { scrubConfigKey, scrubEvent } from './scrub.js';

const project: ProjectSettings = {
  id: 1, organizationId: 1, slug: 'p', hasAlertRules: false, alertRules: [], fingerprintingRules: '', groupingEnhancements: '',
  options: parseProjectOptions('{}'),
};
const CTX = { receivedAt: 1_767_225_600_000, clientIp: '203.0.113.7', eventId: 'a'.repeat(32), userAgent: null };

/** The worker's steps on a payload: normalize (split, as the worker does, or whole), scrub, group. */
function processed(payload: string, split: boolean, options: ProjectOptions = project.options): NormalizedEvent {
  const event = split
    ? normalizeTask({ v: 2, itemType: 'event', projectId: 1, keyId: 1, client: null, payload, ...CTX })
    : normalizeEvent(parseJson(payload, { allowNonFinite: true }), { ...CTX, receivedAt: CTX.receivedAt / 1000 });
  scrubEvent(event, options);
  groupNormalizedEvent(event, { ...project, options });
  return event;
}

/** The stored JSON of an event, as readyForSave writes it (remembering the stacks it kept). */
function bodyOf(event: NormalizedEvent, options: ProjectOptions = project.options): string {
  return eventJson(event, scrubConfigKey(options));
}

/**
 * The stored JSON of the payload's event, split; asserts it reads back as the event written out
 * whole: parsed the first time, then known from the first (not parsed unless a step reads it)
 * while grouping works it out again, then with grouping's memo too.
 */
function stored(payload: string): string {
  forgetKnownStacks();
  clearGroupingMemo();
  const json = bodyOf(processed(payload, true));
  clearGroupingMemo();
  const known = bodyOf(processed(payload, true));
  const memo = bodyOf(processed(payload, true));
  clearGroupingMemo();
  const whole = JSON.parse(JSON.stringify(processed(payload, false)));
  expect(JSON.parse(json)).toEqual(whole);
  expect(JSON.parse(known)).toEqual(whole);
  expect(JSON.parse(memo)).toEqual(whole);
  return json;
}

function frame(fn: string, line: number, extra: Record<string, unknown> = {}) {
  return { filename: '/app/src/a.js', abs_path: '/app/src/a.js', function: fn, lineno: line, colno: 3, in_app: true, context_line: `  ${fn}();`, pre_context: ['{'], post_context: ['}'], ...extra };
}

function payload(frames: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ platform: 'node', exception: { values: [{ type: 'Error', value: 'boom', stacktrace: { frames } }] }, ...extra });
}

/** The text of the first frames array of a payload made by `payload`. */
function framesTextOf(p: string): string {
  const start = p.indexOf('"frames":[') + '"frames":'.length;
  return p.slice(start, p.indexOf('}]', start) + 2);
}

beforeEach(() => {
  clearGroupingMemo();
  forgetKnownStacks();
});

describe('frames text in stored bodies', () => {
  test('a bench corpus event keeps its frames text, with the abs_path members normalization fills in, and reads back the same', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 20; i++) {
      const p = JSON.stringify(buildEvent(rand, i, i % 5 === 0, 'r1'));
      // As @sentry/node, the corpus sends no abs_path: each frame gets its filename's, in place.
      const filled = withAbsPaths(framesTextOf(p));
      expect(filled.filled.length).toBeGreaterThan(0);
      expect(stored(p)).toContain(filled.text);
    }
  });

  test("the client's spelling is kept: Python's separators, escapes, non-ASCII source", () => {
    const frames = [frame('f', 1, { context_line: '  print("h\u00e9llo \u2603 \\ud83d")' }), frame('g', 2)];
    const p = payload(frames).replace(/,"/g, ', "').replace(/":/g, '": ');
    const json = stored(p);
    expect(json).toContain('"function": "g"');
  });

  test('frames a step changed are written out: in-app defaults, line numbers, context lines, abs_path set over an empty one', () => {
    for (const frames of [
      [frame('f', 1, { in_app: undefined, abs_path: '/app/node_modules/x/index.js' }), frame('g', 2)],
      [frame('f', 1, { abs_path: '' }), frame('g', 2)],
      [frame('f', 1, { abs_path: null }), frame('g', 2)],
      [frame('f', 1, { lineno: 0 }), frame('g', 2)],
      [frame('f', 1, { pre_context: ['a', null, 'b'] }), frame('g', 2)],
    ]) {
      const p = payload(frames);
      expect(stored(p)).not.toContain(framesTextOf(p));
    }
    const defaults = JSON.parse(stored(payload([frame('f', 1, { in_app: undefined, abs_path: '/app/node_modules/x/index.js', filename: 'node_modules/x/index.js' }), frame('g', 2)])));
    expect(defaults.exception.values[0].stacktrace.frames[0].in_app).toBe(false);
  });

  test("abs_path filled in from filename is added to the kept text (@sentry/node sends none)", () => {
    const bare = (fn: string, line: number, extra: Record<string, unknown> = {}) => frame(fn, line, { abs_path: undefined, ...extra });
    // Nested objects with their own filename or abs_path do not count; `?` functions are taken out as well.
    const p = payload([bare('f', 1), frame('g', 2), bare('?', 3, { data: { filename: 'inner.js', abs_path: undefined } }), bare('h', 4, { filename: 'C:\\app\\"q".js' })]);
    const json = stored(p);
    const kept = withAbsPaths(framesTextOf(p));
    expect(kept.filled).toEqual([0, 2, 3]);
    expect(json).toContain(kept.text.replace(UNKNOWN_FUNCTION, ''));
    const frames = JSON.parse(json).exception.values[0].stacktrace.frames;
    expect(frames.map((f: { abs_path?: string }) => f.abs_path)).toEqual(['/app/src/a.js', '/app/src/a.js', '/app/src/a.js', 'C:\\app\\"q".js']);
    expect(frames[2].data).toEqual({ filename: 'inner.js' });
    // Seen again (with grouping's memo), the stack is known by its text and not parsed; its body holds the same text.
    bodyOf(processed(p, true));
    const again = processed(p, true);
    expect(isUnparsed(again.exception!.values[0].stacktrace)).toBe(true);
    expect(bodyOf(again)).toContain(kept.text.replace(UNKNOWN_FUNCTION, ''));
    // The real SDK's frames: node internals and the application's, none with abs_path.
    const node = payload([{ filename: 'node:internal/process/task_queues', module: 'task_queues', function: 'process.processTicksAndRejections', lineno: 95, colno: 5, in_app: false }, bare('?', 10, { module: 'send' })]);
    expect(stored(node)).toContain(withAbsPaths(framesTextOf(node)).text.replace(UNKNOWN_FUNCTION, ''));
    // Where the text does not say what normalization did, the frames are written out, and still read back the same.
    for (const q of [
      payload([bare('f', 1, { filename: null }), frame('g', 2)]),
      payload([bare('f', 1, { filename: '' }), frame('g', 2)]),
      payload([bare('f', 1, { filename: 'https://example.com/static/app.js' }), frame('g', 2)]),
      payload([bare('f', 1), frame('g', 2)]).replace('"filename":"/app/src/a.js"', '"filename":"/app/src/a.js","filename":"/app/src/b.js"'),
      payload([bare('f', 1), frame('g', 2)]).replace('"filename":"/app/src/a.js"', '"filename" : "/app/src/a.js"'),
    ]) {
      stored(q);
    }
  });

  test("anonymous functions' `?` is taken out of the kept text, exactly or not at all", () => {
    // The JavaScript SDKs' name for an anonymous function, dropped by normalization as Relay does.
    const anonymous = payload([frame('?', 1), frame('g', 2), frame('?', 3)]);
    const json = stored(anonymous);
    expect(json).not.toContain('"function":"?"');
    expect(json).toContain(framesTextOf(anonymous).replaceAll('"function":"?",', ''));
    expect(JSON.parse(json).exception.values[0].stacktrace.frames.map((f: { function?: string }) => f.function ?? null)).toEqual([null, 'g', null]);
    // Where the text cannot be followed exactly, the frames are written out.
    for (const p of [
      payload([frame('?', 1), frame('g', 2, { data: { function: '?' } })]),
      payload([frame('?', 1), frame('g', 2)]).replace('"function":"g"', '"function":"g","function":"h"'),
      payload([frame('?', 1), frame('g', 2)]).replace('"function":"?"', '"function": "?"'),
      payload([{ function: '?' }, frame('g', 2)]),
    ]) {
      expect(stored(p)).not.toContain(framesTextOf(p).slice(0, 60));
    }
  });

  test("local variables within the bounds keep the text; sentry-python's every event has its own", () => {
    const withVars = (n: number) => payload([frame('f', 1, { vars: { n, user: { id: `u${n}`, tags: ['a', 'b'] }, ok: true } }), frame('g', 2)]);
    expect(stored(withVars(1))).toContain(framesTextOf(withVars(1)));
    expect(stored(withVars(2))).toContain(framesTextOf(withVars(2)));
    // Grouping does not read them: events that differ only in their variables share a digest.
    clearGroupingMemo();
    for (let n = 1; n <= 3; n++) processed(withVars(n), true);
    expect(groupingMemoSize()).toBe(1);
    // Past the bounds they are cut, and the frames written out: too deep, too long, or a
    // `__proto__` member (which a copy would have taken as its prototype).
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let d = 0; d < 12; d++) deep = { d: deep };
    for (const vars of [deep, { s: 'x'.repeat(17 * 1024) }]) {
      const p = payload([frame('f', 1, { vars }), frame('g', 2)]);
      expect(stored(p)).not.toContain(framesTextOf(p));
    }
    const proto = payload([frame('f', 1, { vars: { a: 1 } }), frame('g', 2)]).replace('"vars":{"a":1}', '"vars":{"a":1,"__proto__":{"b":2}}');
    expect(stored(proto)).not.toContain('__proto__');
  });

  test('scrubbed local variables never come back from the text', () => {
    for (const frames of [
      [frame('f', 1, { vars: { password: 'hunter2' } }), frame('g', 2)],
      [frame('f', 1, { vars: { note: 'card 4111 1111 1111 1111' } }), frame('g', 2)],
      [frame('f', 1), frame('g', 2, { vars: { headers: { authorization: 'Bearer abcdef123456' } } })],
    ]) {
      const json = stored(payload(frames));
      expect(json).not.toContain('4111 1111 1111 1111');
      expect(json).not.toContain('hunter2');
      expect(json).not.toContain('abcdef123456');
    }
  });

  test('frames arrays outside stacks, odd keys and odd lists are parsed whole', () => {
    const frames = [frame('f', 1), frame('g', 2)];
    // Outside a stack trace: the split is undone and the payload parsed whole.
    expect(JSON.parse(stored(payload(frames, { extra: { frames: [{ a: 1 }] } }))).extra.frames).toEqual([{ a: 1 }]);
    expect(JSON.parse(stored(payload(frames, { extra: { 'x"frames': [{ a: 1 }] } }))).extra['x"frames']).toEqual([{ a: 1 }]);
    // The last of two `frames` keys wins, as in JSON.parse.
    const twice = payload(frames).replace('"stacktrace":{"frames":', '"stacktrace":{"frames":[{"function":"first"}],"frames":');
    expect(JSON.parse(stored(twice)).exception.values[0].stacktrace.frames.map((f: { function: string }) => f.function)).toEqual(['f', 'g']);
    // `}]` inside a string before the real end; a list ending in a non-object; an empty list.
    const inString = payload([frame('f', 1, { context_line: 'x = [{a: 1}]' }), frame('g', 2)]);
    expect(stored(inString)).toContain(framesTextOf(inString).slice(0, 40));
    stored(payload([frame('f', 1), null], { breadcrumbs: [{ message: 'm' }] }));
    stored(payload([null, frame('f', 1)]));
    stored(payload([]));
    // Non-finite numbers (sentry-python's NaN) fall back to the tolerant parse.
    stored(payload(frames).replace('"lineno":1', '"lineno":NaN'));
  });

  test('a payload of many frames keys whose arrays end late is split in work bounded by its length', () => {
    // Each array's first `}]` is the payload's last: without a bound, each key would copy, hash and try to parse the rest.
    const hostile = payload([frame('f', 1)], { extra: { a: [...Array.from({ length: 20_000 }, () => ({ frames: [1] })), {}] } });
    const before = splitFramesExamined.chars;
    const event = processed(hostile, true);
    expect(splitFramesExamined.chars - before).toBeLessThanOrEqual(2 * hostile.length);
    expect((event.extra as { a: unknown[] }).a).toHaveLength(20_001);
    expect(event.exception?.values[0].stacktrace?.frames.map((f) => f.function)).toEqual(['f']);
  });

  test('a stack known by its text groups with its own message', () => {
    const frames = [frame('f', 1), frame('g', 2)];
    const first = processed(payload(frames), true);
    const other = processed(payload(frames).replace('"value":"boom"', '"value":"bang"'), true);
    expect(other.hashes).toEqual(first.hashes);
    expect([first.title, other.title]).toEqual(['Error: boom', 'Error: bang']);
    expect((other.metadata as { value: string }).value).toBe('bang');
  });

  test('a stack seen before is not parsed unless a step reads it', () => {
    const p = payload([frame('f', 1), frame('g', 2)]);
    bodyOf(processed(p, true));
    const event = processed(p, true);
    const stack = event.exception!.values[0].stacktrace;
    expect(isUnparsed(stack)).toBe(true);
    expect(bodyOf(event)).toContain(framesTextOf(p));
    expect(isUnparsed(stack)).toBe(true);
    // Read, its frames are the ones the text says.
    expect(stack!.frames.map((f) => f.function)).toEqual(['f', 'g']);
  });

  test("a known stack's other members are kept as sent, whatever their names", () => {
    // Names a stack object of the worker's could answer to itself (`toJSON`, `__proto__`, ...).
    for (const member of ['"toJSON":"x"', '"__proto__":{"a":1}', '"kept":1', '"knownStack":null', '"frames_omitted":[1,2]']) {
      const p = payload([frame('f', 1), frame('g', 2)]).replace('"stacktrace":{"frames":', `"stacktrace":{${member},"frames":`);
      const json = stored(p);
      expect(JSON.parse(json).exception.values[0].stacktrace.frames.map((f: { function: string }) => f.function)).toEqual(['f', 'g']);
    }
  });

  test('source context is code under every scrubbing configuration: kept as sent, and the stack known', () => {
    // Relay's Frame: `pre_context`, `context_line` and `post_context` are `pii = "false"`.
    const p = payload([frame('f', 1, { context_line: '  connect("10.1.2.3");' }), frame('g', 2)]);
    expect(bodyOf(processed(p, true))).toContain(framesTextOf(p));
    const strict = parseProjectOptions(JSON.stringify({ scrubIPAddresses: true, sensitiveFields: ['connect'] }));
    expect(bodyOf(processed(p, true, strict), strict)).toContain(framesTextOf(p));
    // Clean under that configuration too, so the next event's stack is not parsed.
    const event = processed(p, true, strict);
    expect(isUnparsed(event.exception!.values[0].stacktrace)).toBe(true);
    expect(bodyOf(event, strict)).toContain(framesTextOf(p));
  });

  test('threads, raw stacks and several exceptions each keep their text', () => {
    const lists = [[frame('a', 1)], [frame('ra', 1)], [frame('b', 2)], [frame('t', 3), frame('u', 4)]];
    const p = JSON.stringify({
      platform: 'python',
      exception: { values: [
        { type: 'KeyError', value: 'a', stacktrace: { frames: lists[0] }, raw_stacktrace: { frames: lists[1] } },
        { type: 'ValueError', value: 'b', stacktrace: { frames: lists[2] } },
      ] },
      threads: { values: [{ id: 1, crashed: false, stacktrace: { frames: lists[3] } }] },
    }).replace(/,"/g, ', "');
    const json = stored(p);
    for (const list of lists) expect(json).toContain(JSON.stringify(list).replace(/,"/g, ', "'));
  });

  test("the SDKs' captured events read back the same", () => {
    for (const name of ['node-exception', 'node-exception-large', 'node-message', 'python-exception', 'python-message']) {
      const lines = readFileSync(new URL(`../../test/fixtures/captures/${name}.jsonl`, import.meta.url), 'utf8').trim().split('\n');
      for (const line of lines) {
        const r = JSON.parse(line);
        const raw = Buffer.from(r.rawBase64, 'base64');
        const body = r.contentEncoding === 'gzip' ? gunzipSync(raw) : raw;
        if (r.url.includes('/store/')) {
          stored(body.toString('utf8'));
          continue;
        }
        for (const item of parseEnvelope(body).items) if (item.headers.type === 'event') stored(item.payload.toString('utf8'));
      }
    }
  });
});
