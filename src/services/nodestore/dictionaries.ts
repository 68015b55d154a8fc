/**
 * Zstandard dictionaries for event bodies (codec format 3), one current dictionary per project.
 *
 * The events of one application repeat the same text: its stack frames with their source
 * context, its modules, its runtime and SDK. Compressed one at a time, each body spells all of
 * that out again; compressed against a dictionary holding it, a body is mostly references. The
 * worker samples a dictionary from a project's first events (and again once a week, as code
 * changes), then compresses the project's bodies with it.
 *
 * What goes into a dictionary is the *code* of events only (`codeParts`): frames without their
 * local variables, exception types without their messages, the known runtime contexts, modules,
 * SDK, platform, level, environment and release. Never user, request, breadcrumbs, tags, extra,
 * messages or custom contexts: a dictionary outlives the events it was sampled from by up to the
 * retention period plus `DICTIONARY_MAX_USE_MS`, which must not keep anyone's data.
 *
 * Lifetime, so no body is ever left without its dictionary:
 * - a dictionary is used for new bodies for at most `DICTIONARY_MAX_USE_MS` after it was made;
 * - event timestamps are at most a minute ahead of receipt (normalize.ts), so every body made
 *   with it has a timestamp before `created + DICTIONARY_MAX_USE_MS + 1 min`;
 * - cleanup deletes a dictionary only after retention has deleted every event up to that
 *   timestamp plus a day (`dictionaryCutoff`).
 * Ids are 48-bit hashes of the project and the content, so workers in separate processes make
 * dictionaries without coordinating; a worker due for a new one adopts one another has written
 * meanwhile. A dictionary is written in the same transaction as the first bodies that use it, or
 * an earlier one.
 *
 * Stack texts stored apart (codec format 4) follow the same pattern: once a project has a
 * dictionary, a stack whose text went through the pipeline unchanged is written once to
 * `body_stacks` (with the first bodies that refer to it) and bodies name it by id. Its id is a
 * SHA-256 of the project and the text's hash; its `last_used` follows the event times of the bodies
 * that refer to it to within `STACK_USE_STEP_MS`, and cleanup deletes it past `stackCutoff`. The
 * stack's text is code only: a text a scrubbing rule changed, or with local variables, stays inline.
 */
import { createHash, hash as sha256Of } from 'node:crypto';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database, Dialect } from '../../db/index.js';
import { insertIgnore, insertRows, upsert, type AnyInsert } from '../../db/sql.js';
import type { Executor } from '../executor.js';
import { bodyDictionaryId, bodyStacks, compressStackText, decodeNode, decompressStackText, encodeNode, encodeNodeWithStacks, MAX_STACKS, withStackTexts, type BodyDictionary, type StackPiece } from './codec.js';

/** The size a sampled dictionary aims at: zstd's own trainer defaults to 110 KB. */
export const DICTIONARY_BYTES = 64 * 1024;
/**
 * A project's dictionary is sampled again once it is this old: code changes with deploys. Weekly,
 * because each dictionary is kept for the retention period and more (64 KB per project per week).
 */
export const DICTIONARY_ROTATE_MS = 7 * 86_400_000;
/** A dictionary is used for new bodies for at most this long after it was made. */
export const DICTIONARY_MAX_USE_MS = 14 * 86_400_000;
/** How often a process due to sample a project's new dictionary looks for one another process made. */
const RECHECK_MS = 600_000;
/** How often ingest looks for the first dictionary of a project it has none for (`forQueue`). */
const QUEUE_FIRST_LOOK_MS = 10_000;
/** A sample is taken as complete after this many events in a row brought nothing new (a project with few distinct stacks)... */
const SAMPLE_NOTHING_NEW = 50;
/** ...or after this many events in all... */
const SAMPLE_EVENTS = 500;
/** ...or after this long, if it holds anything: a quiet project still gets a dictionary. */
const SAMPLE_MAX_MS = 3_600_000;
/** Projects sampling at once in one process: bounds the memory samples hold (64 KB each). */
const MAX_SAMPLERS = 32;
/** Dictionaries kept loaded for reading. */
const LOADED = 64;
/** Projects whose current dictionary one process keeps (64 KB each); others are looked up again. */
const PROJECTS = 256;

/** Top-level event fields that describe code, not data. */
const CODE_FIELDS = new Set(['platform', 'level', 'logger', 'environment', 'release', 'dist', 'sdk', 'modules', 'contexts', 'exception', 'threads', 'stacktrace', 'debug_meta']);
/** Runtime contexts (Sentry's known context types); custom contexts may hold anything. */
const CODE_CONTEXTS = new Set(['os', 'runtime', 'browser', 'device', 'app', 'gpu', 'culture', 'cloud_resource']);
/** Nested fields that may hold data: frame variables, exception messages, mechanism data, trace ids. */
const DATA_FIELDS = new Set(['vars', 'value', 'data', 'meta', 'trace_id', 'span_id', 'parent_span_id']);

/** The JSON of an event's code parts, in the event's own key order so that it matches its body's text. */
export function codeParts(event: Record<string, unknown>): string {
  const contexts = event.contexts;
  return JSON.stringify(event, function (this: unknown, key: string, value: unknown) {
    if (key === '') return value;
    if (this === event) return CODE_FIELDS.has(key) ? value : undefined;
    if (this === contexts) return CODE_CONTEXTS.has(key) ? value : undefined;
    return DATA_FIELDS.has(key) ? undefined : value;
  });
}

interface Current extends BodyDictionary {
  created: number;
}

interface Sample {
  started: number;
  parts: string[];
  /** The parts taken, with their long numbers left out (`sameCode`). */
  seen: Set<string>;
  bytes: number;
  events: number;
  /** Events since the last one that added a part. */
  nothingNew: number;
}

/**
 * Two events' code parts count as the same when they differ only in long numbers: SDKs report
 * measurements in contexts (free memory, app memory, boot time) that change from event to event,
 * and a sample of near copies of one stack would fill the dictionary with it.
 */
function sameCode(part: string): string {
  return part.replace(/\d{5,}/g, '');
}

interface ProjectState {
  current: Current | null;
  sample: Sample | null;
  /** When `ready` last looked in the database for a newer dictionary. */
  checked: number;
}

/** A dictionary made by this process and not yet known to be committed. */
export interface NewDictionary extends Current {
  projectId: number;
}

/** A stack's text that bodies made by this process refer to, not yet known to be committed. */
export interface NewStack {
  /** `body_stacks.id`: SHA-256 (base64url) of the project and the text's own hash. */
  id: string;
  projectId: number;
  /** The latest event time (Unix ms) of a body that refers to it. */
  lastUsed: number;
  /**
   * Its text as stored (`compressStackText`), compressed when first used: the text itself is a
   * slice of its event's payload, and holding it until the save would hold the whole payload.
   */
  data: Buffer;
}

const sha256 = (text: string, encoding: 'buffer') => sha256Of('sha256', text, encoding) as unknown as Buffer;

/** PostgreSQL types of `body_stacks` columns (`insertRows`). */
const STACK_ROW_TYPES = { id: 'text', project_id: 'bigint', last_used: 'bigint', data: 'bytea' };

/** A stack's `last_used` is written again once a body's event time passes it by this much. */
const STACK_USE_STEP_MS = 86_400_000;
/** Stack texts kept for reading bodies (bytes of text). */
const STACK_TEXTS_BYTES = 32 * 1024 * 1024;
/** Stacks this process knows to be stored, with the `last_used` it last wrote for each (about 150 bytes each). */
const STACKS_WRITTEN = 20_000;
/** Stack ids remembered by project and text hash (about 200 bytes each). */
const STACK_IDS = 10_000;

export class BodyDictionaries {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;
  readonly #now: () => number;
  readonly #sampleBytes: number;
  /** Dictionary contents for reading, by id, least recently used first. */
  readonly #loaded = new Map<number, Buffer>();
  readonly #projects = new Map<number, ProjectState>();
  /** Projects `forQueue` is looking up. */
  readonly #looking = new Set<number>();
  #samplers = 0;
  #reclaimed = 0;
  #unwritten: NewDictionary[] = [];
  /** Stack texts for reading bodies of format 4, by id. */
  readonly #stackTexts = new LRUCache<string, Buffer>({ maxSize: STACK_TEXTS_BYTES, sizeCalculation: (b) => b.length + 64 });
  readonly #stacksWritten = new LRUCache<string, number>({ max: STACKS_WRITTEN });
  readonly #unwrittenStacks = new Map<string, NewStack>();
  readonly #stackIds = new Map<string, string>();

  constructor(db: Kysely<Database>, dialect: Dialect, opts: { now?: () => number; sampleBytes?: number } = {}) {
    this.#db = db;
    this.#dialect = dialect;
    this.#now = opts.now ?? Date.now;
    this.#sampleBytes = opts.sampleBytes ?? DICTIONARY_BYTES;
  }

  // ---- reading

  /** Decodes bodies, first loading the dictionaries and stack texts they name. */
  async decode(bodies: (Buffer | Uint8Array)[]): Promise<Record<string, unknown>[]> {
    await this.load(bodies.map(bodyDictionaryId).filter((id): id is number => id !== null));
    await this.loadStacks(bodies.flatMap((b) => bodyStacks(b).map((s) => s.id)));
    return bodies.map((b) => decodeNode(b, this.lookup, this.stackLookup));
  }

  /** Loads the stack texts of these ids that are not loaded yet. */
  async loadStacks(ids: string[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#stackTexts.has(id));
    for (let i = 0; i < missing.length; i += 100) {
      const rows = await this.#db.selectFrom('body_stacks').select(['id', 'data']).where('id', 'in', missing.slice(i, i + 100)).execute();
      for (const r of rows) this.#stackTexts.set(r.id, decompressStackText(Buffer.from(r.data)));
    }
  }

  /** A loaded stack's text by id (`loadStacks` first). */
  readonly stackLookup = (id: string): Buffer | undefined => this.#stackTexts.get(id);

  /** Loads the dictionaries of these ids that are not loaded yet (ids not in the database stay missing). */
  async load(ids: number[]): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.#loaded.has(id));
    for (let i = 0; i < missing.length; i += 100) {
      const rows = await this.#db.selectFrom('nodestore_dictionaries').select(['id', 'data']).where('id', 'in', missing.slice(i, i + 100)).execute();
      for (const r of rows) this.#remember(Number(r.id), Buffer.from(r.data));
    }
  }

  /** A loaded dictionary's content by id (`load` first). */
  readonly lookup = (id: number): Buffer | undefined => this.#loaded.get(id);

  #remember(id: number, data: Buffer): void {
    this.#loaded.delete(id);
    if (this.#loaded.size >= LOADED) this.#loaded.delete(this.#loaded.keys().next().value as number);
    this.#loaded.set(id, data);
  }

  // ---- writing (the worker)

  /**
   * Learns the project's current dictionary from the database: once per process, and again (at
   * most every `RECHECK_MS`) while this process is due to sample a new one, so that the workers
   * of a fleet adopt the first one any of them makes instead of each keeping its own.
   */
  async ready(projectId: number, recheckMs = RECHECK_MS): Promise<void> {
    const known = this.#projects.get(projectId);
    const now = this.#now();
    if (known && (!this.#due(known, now) || now - known.checked < recheckMs)) return;
    if (known) known.checked = now;
    const row = await this.#db
      .selectFrom('nodestore_dictionaries')
      .select(['id', 'created', 'data'])
      .where('project_id', '=', projectId)
      .where('created', '>', now - DICTIONARY_MAX_USE_MS)
      .orderBy('created', 'desc')
      .limit(1)
      .executeTakeFirst();
    const found = row ? { id: Number(row.id), created: Number(row.created), data: Buffer.from(row.data) } : null;
    const st = this.#projects.get(projectId);
    if (!st) {
      if (found) this.#remember(found.id, found.data);
      this.#projects.set(projectId, { current: found, sample: null, checked: now });
    } else if (found && found.created > (st.current?.created ?? 0)) {
      this.#remember(found.id, found.data);
      st.current = found;
      if (st.sample && !this.#due(st, now)) {
        st.sample = null;
        this.#samplers--;
      }
    }
  }

  /**
   * The project's current dictionary for compressing its queued payloads (ingest), or null while
   * this process knows none. Never waits and never samples: the project is looked up in the
   * background, every 10 seconds while it has no dictionary (a new project gets one from the
   * worker within its first events) and every 10 minutes while it is due for a new one.
   */
  forQueue(projectId: number): BodyDictionary | null {
    const now = this.#now();
    const st = this.#projects.get(projectId);
    if (st) {
      this.#projects.delete(projectId); // most recently used last
      this.#projects.set(projectId, st);
    }
    const recheckMs = st?.current ? RECHECK_MS : QUEUE_FIRST_LOOK_MS;
    if ((!st || (this.#due(st, now) && now - st.checked >= recheckMs)) && !this.#looking.has(projectId)) {
      this.#looking.add(projectId);
      this.ready(projectId, recheckMs)
        .catch(() => undefined) // the database is away: payloads go without a dictionary, and the next request asks again
        .finally(() => {
          this.#looking.delete(projectId);
          if (this.#projects.size > PROJECTS) this.#forget(this.#projects.keys().next().value as number);
        });
    }
    const current = st?.current;
    if (!current || now - current.created >= DICTIONARY_MAX_USE_MS) return null;
    // One this process made is used only once it is committed: a queued payload must outlive a crash.
    return this.#unwritten.some((d) => d.id === current.id) ? null : current;
  }

  /** The project has no dictionary young enough not to be replaced. */
  #due(st: ProjectState, now: number): boolean {
    return !st.current || now - st.current.created >= DICTIONARY_ROTATE_MS;
  }

  /**
   * Encodes an event's body with the project's current dictionary (format 2 while it has none),
   * and adds the event to the project's next dictionary when one is being sampled. `json` is the
   * event's JSON when the caller wrote it already, whole or in pieces.
   */
  encode(projectId: number, event: Record<string, unknown>, json?: string | string[], stacks: StackPiece[] = []): Buffer {
    let st = this.#projects.get(projectId);
    if (st) this.#projects.delete(projectId); // most recently used last
    else st = { current: null, sample: null, checked: 0 };
    this.#projects.set(projectId, st);
    if (this.#projects.size > PROJECTS) this.#forget(this.#projects.keys().next().value as number);
    const now = this.#now();
    if (st.current && now - st.current.created >= DICTIONARY_MAX_USE_MS) st.current = null;
    if (this.#due(st, now)) this.#sample(projectId, st, event, now);
    if (st.current && Array.isArray(json) && stacks.length) {
      const ts = typeof event.timestamp === 'number' ? Math.round(event.timestamp * 1000) : now;
      const refs = stacks.slice(0, MAX_STACKS).map(({ piece, hash, text }) => {
        const id = this.#stackId(projectId, hash);
        this.#useStack(id.key, projectId, text, ts);
        return { piece, id: id.raw };
      });
      return encodeNodeWithStacks(withStackTexts(json, stacks, MAX_STACKS), refs, st.current);
    }
    return encodeNode(event, st.current, Array.isArray(json) ? withStackTexts(json, stacks) : json);
  }

  /** A stack's id in `body_stacks`, from its project and its text's hash (remembered: most events repeat a stack). */
  #stackId(projectId: number, hash: string): { raw: Buffer; key: string } {
    const memo = `${projectId}:${hash}`;
    let key = this.#stackIds.get(memo);
    if (key === undefined) {
      key = sha256(memo, 'buffer').toString('base64url');
      if (this.#stackIds.size >= STACK_IDS) this.#stackIds.clear();
      this.#stackIds.set(memo, key);
    }
    return { raw: Buffer.from(key, 'base64url'), key };
  }

  /** Notes that a body refers to a stack: it is written with the batch unless known to be stored, used as late. */
  #useStack(id: string, projectId: number, text: () => string, ts: number): void {
    const written = this.#stacksWritten.get(id);
    if (written !== undefined && ts < written + STACK_USE_STEP_MS) return;
    const pending = this.#unwrittenStacks.get(id);
    if (pending) pending.lastUsed = Math.max(pending.lastUsed, ts);
    else this.#unwrittenStacks.set(id, { id, projectId, lastUsed: ts, data: compressStackText(text()) });
  }

  /** Stack texts bodies refer to that are not known to be stored: write them with (or before) those bodies. */
  unwrittenStacks(): NewStack[] {
    return [...this.#unwrittenStacks.values()].map((s) => ({ ...s }));
  }

  async writeStacks(stacks: NewStack[], executor?: Executor): Promise<void> {
    if (!stacks.length) return;
    // In id order, so that workers writing the same new stacks at once lock their rows in one order.
    const rows = stacks.map((s) => ({ id: s.id, project_id: s.projectId, last_used: s.lastUsed, data: s.data })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const merge = (qb: AnyInsert) => upsert(qb, this.#dialect, 'body_stacks', ['id'], { last_used: 'max' });
    // PostgreSQL takes them all in one statement (one array per column, whatever their number): a
    // statement per stack was a round trip each, 2,000 in a 20,000-event drain of the corpus.
    if (this.#dialect === 'postgres') {
      await insertRows(executor ?? this.#db, this.#dialect, 'body_stacks', STACK_ROW_TYPES, rows, merge);
      return;
    }
    // Elsewhere one row per statement: how many new stacks a batch brings varies from batch to
    // batch, and a multi-row statement kept for each count held tens of MB of prepared statements on SQLite.
    for (const row of rows) await insertRows(executor ?? this.#db, this.#dialect, 'body_stacks', STACK_ROW_TYPES, [row], merge, 'body_stacks.write');
  }

  /** The transaction that wrote these stacks committed. */
  stacksWritten(stacks: NewStack[]): void {
    for (const s of stacks) {
      this.#stacksWritten.set(s.id, Math.max(this.#stacksWritten.get(s.id) ?? 0, s.lastUsed));
      const pending = this.#unwrittenStacks.get(s.id);
      // A body encoded since may have used it later than what was written: that is written next time.
      if (pending && pending.lastUsed <= s.lastUsed) this.#unwrittenStacks.delete(s.id);
    }
  }

  /** Lets go of a project's state; `ready` looks its dictionary up again (a sample in progress is dropped). */
  #forget(projectId: number): void {
    const st = this.#projects.get(projectId);
    if (st?.sample) this.#samplers--;
    this.#projects.delete(projectId);
  }

  #sample(projectId: number, st: ProjectState, event: Record<string, unknown>, now: number): void {
    if (!st.sample) {
      if (this.#samplers >= MAX_SAMPLERS) this.#reclaim(now);
      if (this.#samplers >= MAX_SAMPLERS) return;
      this.#samplers++;
      st.sample = { started: now, parts: [], seen: new Set(), bytes: 0, events: 0, nothingNew: 0 };
    }
    const s = st.sample;
    s.events++;
    const part = codeParts(event);
    const key = sameCode(part);
    if (part.length > 2 && !s.seen.has(key)) {
      s.seen.add(key);
      s.parts.push(part);
      s.bytes += part.length;
      s.nothingNew = 0;
    } else {
      s.nothingNew++;
    }
    const complete = s.bytes >= this.#sampleBytes || (s.bytes > 0 && s.nothingNew >= SAMPLE_NOTHING_NEW) || s.events >= SAMPLE_EVENTS;
    if (!complete && now - s.started < SAMPLE_MAX_MS) return;
    this.#finish(projectId, st, now);
  }

  /** Ends a project's sample, making its dictionary from what the sample holds (if anything). */
  #finish(projectId: number, st: ProjectState, now: number): void {
    const s = st.sample;
    if (!s) return;
    st.sample = null;
    this.#samplers--;
    if (s.bytes === 0) return;
    // The most recent text last: zstd reaches the end of a dictionary with the shortest offsets.
    let data = Buffer.from(s.parts.join('\n'));
    if (data.length > this.#sampleBytes) data = data.subarray(data.length - this.#sampleBytes);
    const id = createHash('sha256').update(`${projectId}:`).update(data).digest().readUIntBE(0, 6);
    const made: NewDictionary = { id, projectId, created: now, data };
    st.current = made;
    this.#remember(id, data);
    this.#unwritten.push(made);
  }

  /**
   * All places to sample are taken: ends the samples past `SAMPLE_MAX_MS`, which otherwise end
   * only with their project's next event, so quiet projects cannot hold every place (looked for at
   * most once a minute).
   */
  #reclaim(now: number): void {
    if (now - this.#reclaimed < 60_000) return;
    this.#reclaimed = now;
    for (const [projectId, st] of this.#projects) {
      if (st.sample && now - st.sample.started >= SAMPLE_MAX_MS) this.#finish(projectId, st, now);
    }
  }

  /** Dictionaries made since the last `written` call: write them with (or before) the bodies that use them. */
  unwritten(): NewDictionary[] {
    return [...this.#unwritten];
  }

  async write(dictionaries: NewDictionary[], executor?: Executor): Promise<void> {
    if (!dictionaries.length) return;
    const rows = dictionaries.map((d) => ({ id: d.id, project_id: d.projectId, created: d.created, data: d.data }));
    await insertRows(executor ?? this.#db, this.#dialect, 'nodestore_dictionaries', { id: 'bigint', project_id: 'bigint', created: 'bigint', data: 'bytea' }, rows, (qb) =>
      insertIgnore(qb, this.#dialect, ['id']),
    );
  }

  /** The transaction that wrote these committed: they need not be written again. */
  written(dictionaries: NewDictionary[]): void {
    const done = new Set(dictionaries);
    this.#unwritten = this.#unwritten.filter((d) => !done.has(d));
  }
}

/**
 * Dictionaries made before this can have no body left once retention deleted the events before
 * `retentionCutoff` (see the lifetime rules above; a day of margin for clocks and slow workers).
 */
export function dictionaryCutoff(retentionCutoff: number): number {
  return retentionCutoff - DICTIONARY_MAX_USE_MS - 86_400_000;
}

/**
 * Stack texts last used before this can have no body left once retention deleted the events
 * before `retentionCutoff`: a body's event time is at most `STACK_USE_STEP_MS` past its stack's
 * `last_used`, and a day more of margin for clocks and slow workers.
 */
export function stackCutoff(retentionCutoff: number): number {
  return retentionCutoff - STACK_USE_STEP_MS - 86_400_000;
}

/** One instance per database handle, shared by the nodestore backends and the worker of a process. */
const instances = new WeakMap<object, BodyDictionaries>();

export function bodyDictionariesFor(database: { db: Kysely<Database>; dialect: Dialect }): BodyDictionaries {
  let d = instances.get(database);
  if (!d) instances.set(database, (d = new BodyDictionaries(database.db, database.dialect)));
  return d;
}
