/**
 * Body dictionaries: what a dictionary may hold (code, never data), when a project gets one and
 * a new one, and that a dictionary past its use is not used. On SQLite; the save step's test runs
 * the worker's use of them on every dialect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDialects } from '../../../test/helpers/databases.js';
import { makeProject, servicesOn, testServices, type TestServices } from '../../../test/helpers/services.js';
import { bodyDictionaryId, bodyStacks, decodeNode, encodeNode, encodeNodeWithStacks } from './codec.js';
import { BodyDictionaries, codeParts, DICTIONARY_MAX_USE_MS, DICTIONARY_ROTATE_MS } from './dictionaries.js';

const event = (n: number) => ({
  event_id: `${n}`.padStart(32, '0'),
  platform: 'python',
  level: 'error',
  release: 'shop@1.2.3',
  message: 'order failed for alice',
  logentry: { message: 'order %s failed', params: ['alice'] },
  user: { email: 'alice@example.com', ip_address: '10.1.2.3' },
  request: { url: 'https://shop.example/checkout?card=4111', headers: [['Cookie', 'session=abc']] },
  breadcrumbs: { values: [{ message: 'charged alice' }] },
  tags: [['customer', 'alice']],
  extra: { basket: 'alice-basket' },
  contexts: {
    runtime: { name: 'CPython', version: '3.11.2' },
    trace: { trace_id: 'f'.repeat(32), span_id: 'e'.repeat(16) },
    customer: { name: 'alice' },
  },
  exception: {
    values: [
      {
        type: 'KeyError',
        value: "'alice'",
        mechanism: { type: 'generic', data: { who: 'alice' } },
        stacktrace: { frames: [{ function: `checkout_${n}`, module: 'shop.views', context_line: '    total = prices[item]', vars: { item: 'alice' } }] },
      },
    ],
  },
});

describe('codeParts', () => {
  it('keeps the frames, types, runtime and release, and none of the data', () => {
    const text = codeParts(event(1));
    for (const code of ['checkout_1', 'shop.views', '    total = prices[item]', 'KeyError', 'CPython', 'shop@1.2.3', '"mechanism":{"type":"generic"}']) expect(text).toContain(code);
    expect(text).not.toContain('alice');
    expect(text).not.toContain('4111');
    expect(text).not.toContain('session=abc');
    expect(text).not.toContain('10.1.2.3');
    expect(text).not.toContain('f'.repeat(32));
  });
});

describe('codec format 3', () => {
  it('round-trips bodies of more dictionaries than it keeps contexts for, interleaved', () => {
    const dicts = Array.from({ length: 40 }, (_, i) => ({ id: 1000 + i, data: Buffer.from(codeParts(event(i)).repeat(20)) }));
    const data = new Map(dicts.map((d) => [d.id, d.data]));
    for (let round = 0; round < 2; round++) {
      const bodies = dicts.map((d, i) => encodeNode(event(i), d));
      bodies.forEach((b, i) => {
        expect(bodyDictionaryId(b)).toBe(1000 + i);
        expect(decodeNode(b, (id) => data.get(id))).toEqual(event(i));
      });
    }
    // Smaller with its dictionary, though this small event is mostly data, which the dictionary lacks.
    expect(encodeNode(event(3), dicts[3]).length).toBeLessThan(encodeNode(event(3)).length * 0.8);
  });

  it('writes a body given in pieces as the same bytes as its joined text, whatever their size and characters', () => {
    const dict = { id: 7, data: Buffer.from(codeParts(event(1)).repeat(20)) };
    const lookup = (id: number) => (id === 7 ? dict.data : undefined);
    const whole = JSON.stringify({ ...event(2), message: 'Straße ☃ 😀 \u2028' });
    const cut = [whole.indexOf('Straße'), whole.indexOf('😀') + 1, whole.length - 3]; // one cut between a surrogate pair's halves
    const pieces = [whole.slice(0, cut[0]), whole.slice(cut[0], cut[1]), '', whole.slice(cut[1], cut[2]), whole.slice(cut[2])];
    expect(pieces.join('')).toBe(whole);
    // Pieces no larger than the text they stand for, in turn: after a large body the buffer is reused for a small one.
    const large = JSON.stringify({ blob: 'é'.repeat(300_000) });
    const huge = JSON.stringify({ blob: 'x'.repeat(2_000_000) });
    for (const text of [whole, large, whole, huge, whole]) {
      const parts = text === whole ? pieces : [text.slice(0, 10), text.slice(10)];
      const fromPieces = encodeNode({}, dict, parts);
      expect(decodeNode(fromPieces, lookup)).toEqual(JSON.parse(text));
      expect(fromPieces.equals(encodeNode({}, dict, text))).toBe(true);
    }
  });
});

describe('codec format 4', () => {
  it('splices each stack stored apart back where it was, with its dictionary, whatever the characters around it', () => {
    const dict = { id: 9, data: Buffer.from(codeParts(event(1)).repeat(20)) };
    const stackA = JSON.stringify([{ function: 'straße', lineno: 1 }, { function: '😀', lineno: 2 }]);
    const stackB = JSON.stringify([{ function: 'b', context_line: '  return "]}";' }]);
    const pieces = ['{"message":"ünïcode ☃","exception":{"values":[{"stacktrace":{"frames":', stackA, '}},{"stacktrace":{"frames":', stackB, '}}]},"z":"😀"}'];
    const idA = Buffer.alloc(32, 1);
    const idB = Buffer.alloc(32, 2);
    const body = encodeNodeWithStacks(pieces, [{ piece: 1, id: idA }, { piece: 3, id: idB }], dict);
    expect(body[0]).toBe(4);
    expect(bodyDictionaryId(body)).toBe(9);
    const refs = bodyStacks(body);
    expect(refs.map((r) => r.id)).toEqual([idA.toString('base64url'), idB.toString('base64url')]);
    // Neither stack's text is in the body.
    expect(body.includes(Buffer.from('straße'))).toBe(false);
    const texts = new Map([[idA.toString('base64url'), Buffer.from(stackA)], [idB.toString('base64url'), Buffer.from(stackB)]]);
    expect(decodeNode(body, (id) => (id === 9 ? dict.data : undefined), (id) => texts.get(id))).toEqual(JSON.parse(pieces.join('')));
    // A stack that is gone reads as no frames.
    const partial = decodeNode(body, (id) => (id === 9 ? dict.data : undefined), (id) => (id === refs[1].id ? texts.get(id) : undefined)) as any;
    expect(partial.exception.values[0].stacktrace.frames).toEqual([]);
    expect(partial.exception.values[1].stacktrace.frames).toEqual(JSON.parse(stackB));
    expect(partial.z).toBe('😀');
  });
});

describe('BodyDictionaries', () => {
  let s: TestServices;
  let projectId: number;
  beforeAll(async () => {
    s = await testServices();
    projectId = (await makeProject(s)).project.id;
  });
  afterAll(() => s.cleanup());

  it('samples a dictionary, uses it, samples a new one when it is due and stops using one past its use', async () => {
    let now = 1_800_000_000_000;
    const dicts = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 });
    await dicts.ready(projectId);
    const formats: number[] = [];
    for (let n = 0; n < 20; n++) formats.push(dicts.encode(projectId, event(n))[0]);
    // The events sampled before the 1 KB sample was complete have no dictionary; every later one has.
    const firstWithDictionary = formats.indexOf(3);
    expect(firstWithDictionary).toBeGreaterThan(0);
    expect(formats.slice(firstWithDictionary).every((f) => f === 3)).toBe(true);
    const [first] = dicts.unwritten();
    expect(dicts.unwritten()).toHaveLength(1);
    await dicts.write([first]);
    dicts.written([first]);
    expect(dicts.unwritten()).toEqual([]);

    // Another process picks up the project's dictionary instead of sampling its own.
    const other = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 });
    await other.ready(projectId);
    const body = other.encode(projectId, event(99));
    expect(bodyDictionaryId(body)).toBe(first.id);
    expect((await other.decode([body]))[0]).toEqual(event(99));

    // Due for a new one: the old one stays in use while the new one is sampled.
    now += DICTIONARY_ROTATE_MS;
    const during = dicts.encode(projectId, event(100));
    expect(bodyDictionaryId(during)).toBe(first.id);
    let after = during;
    for (let n = 101; n < 110; n++) after = dicts.encode(projectId, event(n));
    const second = dicts.unwritten()[0];
    expect(second.id).not.toBe(first.id);
    expect(bodyDictionaryId(after)).toBe(second.id);

    // Past its use, a dictionary is not used, even if no new one is complete.
    const quiet = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 * 1024 });
    await quiet.ready(projectId);
    expect(bodyDictionaryId(quiet.encode(projectId, event(200)))).toBe(first.id);
    now = first.created + DICTIONARY_MAX_USE_MS;
    // (Its sample, begun a week ago, is taken as complete: a quiet project still gets one.)
    expect(bodyDictionaryId(quiet.encode(projectId, event(201)))).not.toBe(first.id);
    const late = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now });
    await late.ready(projectId);
    expect(late.encode(projectId, event(202))[0]).toBe(2);
  });

  it('lets the workers of a fleet adopt the dictionary one of them made instead of each keeping its own', async () => {
    let now = 1_900_000_000_000;
    const fleet = (await makeProject(s, 'acme', 'fleet')).project.id;
    const a = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 });
    const b = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 });
    await a.ready(fleet);
    await b.ready(fleet);
    for (let n = 0; a.unwritten().length === 0; n++) a.encode(fleet, event(n));
    await a.write(a.unwritten());
    // b has begun its own sample, and does not look again at once...
    expect(b.encode(fleet, event(500))[0]).toBe(2);
    await b.ready(fleet);
    expect(b.encode(fleet, event(501))[0]).toBe(2);
    // ...but ten minutes later it finds a's, and drops its own sample.
    now += 600_000;
    await b.ready(fleet);
    expect(bodyDictionaryId(b.encode(fleet, event(502)))).toBe(a.unwritten()[0].id);
    for (let n = 503; n < 520; n++) b.encode(fleet, event(n));
    expect(b.unwritten()).toEqual([]);
  });

  it('does not let quiet projects hold every place to sample, and keeps a bounded number of projects', async () => {
    let now = 2_000_000_000_000;
    const dicts = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 });
    // 40 projects send one event each and fall quiet: the first 32 begin samples, which end only
    // with their next event or when another project needs the place an hour later.
    for (let p = 0; p < 40; p++) {
      await dicts.ready(50_000 + p);
      expect(dicts.encode(50_000 + p, event(p))[0]).toBe(2);
    }
    const busy = 60_000;
    await dicts.ready(busy);
    const before = Array.from({ length: 10 }, (_, n) => dicts.encode(busy, event(1000 + n))[0]);
    expect(before).not.toContain(3);
    now += 3_600_000;
    const after = Array.from({ length: 10 }, (_, n) => dicts.encode(busy, event(2000 + n))[0]);
    expect(after).toContain(3);
    // Past 256 projects the oldest are let go of; one that comes back looks its dictionary up again.
    for (let p = 40; p < 300; p++) {
      await dicts.ready(50_000 + p);
      dicts.encode(50_000 + p, event(p));
    }
    await dicts.write(dicts.unwritten());
    const first = await s.database.db.selectFrom('nodestore_dictionaries').select('id').where('project_id', '=', 50_000).executeTakeFirstOrThrow();
    await dicts.ready(50_000);
    expect(bodyDictionaryId(dicts.encode(50_000, event(7)))).toBe(Number(first.id));
  });

  it('samples events that differ only in measurements once, and completes a sample when events stop bringing anything new', async () => {
    const dicts = new BodyDictionaries(s.database.db, s.database.dialect);
    const same = 70_000;
    await dicts.ready(same);
    // One stack, as an SDK reports it event after event: only the memory figures change.
    const measured = (n: number) => ({ ...event(1), contexts: { ...event(1).contexts, device: { free_memory: 24_051_920_896 - n * 4096 }, app: { app_memory: 121_163_776 + n * 8192 } } });
    const formats = Array.from({ length: 60 }, (_, n) => dicts.encode(same, measured(n))[0]);
    // The first event is new; the fiftieth after it that brings nothing completes the sample, and
    // is the first compressed with the dictionary.
    expect(formats.indexOf(3)).toBe(50);
    const [made] = dicts.unwritten();
    expect(made.data.toString('utf8').split('checkout_1')).toHaveLength(2);
  });

  it('gives ingest a project\'s committed dictionary for its queued payloads, without waiting or sampling', async () => {
    let now = 2_100_000_000_000;
    const queued = (await makeProject(s, 'acme', 'queued')).project.id;
    const worker = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now, sampleBytes: 1024 });
    const ingest = new BodyDictionaries(s.database.db, s.database.dialect, { now: () => now });
    const settled = () => new Promise((resolve) => setTimeout(resolve, 50));
    // No dictionary yet: null at once, and the lookup it starts finds none.
    expect(ingest.forQueue(queued)).toBeNull();
    await settled();
    expect(ingest.forQueue(queued)).toBeNull();
    await worker.ready(queued);
    for (let n = 0; worker.unwritten().length === 0; n++) worker.encode(queued, event(n));
    const [made] = worker.unwritten();
    // The worker's own, not yet committed, is not handed out: a payload queued with it could
    // outlive a crash that loses it.
    expect(worker.forQueue(queued)).toBeNull();
    await worker.write([made]);
    worker.written([made]);
    expect(worker.forQueue(queued)?.id).toBe(made.id);
    // Ingest elsewhere looks again every ten seconds while it knows no dictionary, and never samples.
    expect(ingest.forQueue(queued)).toBeNull();
    now += 10_000;
    ingest.forQueue(queued);
    await settled();
    expect(ingest.forQueue(queued)?.id).toBe(made.id);
    expect(ingest.unwritten()).toEqual([]);
    // Past its use it is not used for payloads either.
    now = made.created + DICTIONARY_MAX_USE_MS;
    expect(ingest.forQueue(queued)).toBeNull();
    // A worker reading a payload loads the dictionary by id.
    const reader = new BodyDictionaries(s.database.db, s.database.dialect);
    expect(reader.lookup(made.id)).toBeUndefined();
    await reader.load([made.id, 12345]);
    expect(reader.lookup(made.id)?.equals(made.data)).toBe(true);
    expect(reader.lookup(12345)).toBeUndefined();
  });

  it('fails clearly on a body whose dictionary was never stored', async () => {
    const dicts = new BodyDictionaries(s.database.db, s.database.dialect, { sampleBytes: 512 });
    const other = (await makeProject(s, 'acme', 'gone')).project.id;
    await dicts.ready(other);
    let body = dicts.encode(other, event(1));
    for (let n = 2; body[0] !== 3; n++) body = dicts.encode(other, event(n));
    // Never written to the database: a reader elsewhere cannot have it.
    const reader = new BodyDictionaries(s.database.db, s.database.dialect);
    await expect(reader.decode([body])).rejects.toThrow(/needs dictionary \d+/);
  });
});

for (const [dialect, makeDb] of Object.entries(sqlDialects())) {
  describe(`stack texts written on ${dialect}`, () => {
    const services = servicesOn(makeDb);

    it('writes a batch of new stacks at once and keeps each one last used as late as any write said', async () => {
      const s = services();
      const { project } = await makeProject(s);
      const dicts = new BodyDictionaries(s.database.db, s.database.dialect);
      const stack = (id: string, lastUsed: number) => ({ id: `${project.id}-${id}`, projectId: project.id, lastUsed, data: Buffer.from(`[{"function":"${id}"}]`) });
      await dicts.writeStacks(['c', 'a', 'b'].map((id, i) => stack(id, 1_000 + i)));
      // Written again, as a batch of another worker would: one later, one earlier, one new.
      await s.database.db.transaction().execute((trx) => dicts.writeStacks([stack('a', 5_000), stack('b', 10), stack('d', 7)], trx));
      const rows = await s.database.db.selectFrom('body_stacks').select(['id', 'last_used', 'data']).where('project_id', '=', project.id).orderBy('id').execute();
      expect(rows.map((r) => [r.id, Number(r.last_used), Buffer.from(r.data).toString()])).toEqual([
        [`${project.id}-a`, 5_000, '[{"function":"a"}]'],
        [`${project.id}-b`, 1_002, '[{"function":"b"}]'],
        [`${project.id}-c`, 1_000, '[{"function":"c"}]'],
        [`${project.id}-d`, 7, '[{"function":"d"}]'],
      ]);
    });
  });
}
