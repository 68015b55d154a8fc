/**
 * Step 3: save a batch of grouped events in ONE transaction: find or create each issue by its
 * hashes, reopen resolved issues (regressions), write the event index row and the body, and add
 * counters (buffer), time series (tsdb) and tag values (tagstore; with a deferred buffer they go
 * with its counters). Idempotent: an event id already saved for the project is skipped entirely,
 * so a redelivered task never counts twice.
 */
import { sql, type Insertable, type Transaction } from 'kysely';
import type { Database, Dialect, EventTable } from '../db/index.js';
import { dialectOfDb, insertIgnore, insertReturningId, insertRows, inValues, lockRowsInOrder } from '../db/sql.js';
import { eventsByIds, knownEventIds, type RecentEventIds } from '../db/event-ids.js';
import { nextShortIdIn } from './short-id.js';
import type { EventGrouping } from './group.js';
import { isUnparsed, keptText, rememberStack, type Kept, type NormalizedEvent } from '../protocol/index.js';
import { scrubConfigKey } from './scrub.js';
import { EncodedNode, eventNodeId, withStackTexts, type NodeData, type StackPiece } from '../services/nodestore/index.js';
import { eventMessage } from './event-fields.js';
import type { GroupCounters, ShownFields } from '../services/buffer/index.js';
import type { BodyDictionaries } from '../services/nodestore/dictionaries.js';
import { TagValueCounts } from '../services/tagstore/index.js';
import type { TsdbIncrement } from '../services/tsdb/index.js';
import type { BatchContext, ProjectSettings } from './context.js';
import { shouldRegress } from './regression.js';
import { recordActivity } from '../db/models/activity.js';
import type { RuleEvent } from '../alerts/evaluate.js';

/** Parts of an event only its stored body needs: the save step reads its small fields. */
const LARGE_PARTS = ['exception', 'threads', 'stacktrace', 'breadcrumbs', 'contexts', 'extra', 'request', 'debug_meta', 'modules', 'sdk', 'logentry', '_meta', 'errors', 'user'];

/**
 * Readies a grouped event for `saveBatch`: encodes its body now (named by its project; its issue
 * is the events row's, which merges move) with the project's body dictionary, which also samples
 * the event for the next one, and lets go of its large parts. A batch of event trees, or their
 * JSON, kept until the save would outlive V8's young generation and be copied into the old one;
 * measured, that was a tenth of the worker's CPU.
 */
export function readyForSave(event: NormalizedEvent, project: ProjectSettings, dictionaries: BodyDictionaries): { event: NormalizedEvent; body: EncodedNode; message: string } {
  // Set in place: a spread copy with a field added gets a map of its own in V8 (normalize.ts).
  (event as Record<string, unknown>).project = project.id;
  const { pieces, stacks } = eventJsonParts(event, scrubConfigKey(project.options));
  const body = new EncodedNode(dictionaries.encode(project.id, event, pieces, stacks));
  const message = eventMessage(event);
  for (const key of LARGE_PARTS) if (key in event) (event as Record<string, unknown>)[key] = undefined;
  return { event, body, message };
}

/** Stands for a stack's frames while the event is written out; random per process. */
const FRAMES_MARKER = `frames-${Math.random().toString(36).slice(2, 12)}-`;

/**
 * The event's JSON, with the client's own text for every stack whose frames nothing changed
 * (protocol frames-text.ts) instead of writing them out again. An event the scrubber noted
 * anything in is written out whole, so a scrubbed value can never come back from a client's text.
 * With `scrubKey` (its project's `scrubConfigKey`), each such stack is remembered as having gone
 * through every step unchanged, so the next event with the same text need not parse it.
 */
export function eventJson(event: NormalizedEvent, scrubKey?: string): string {
  const { pieces, stacks } = eventJsonParts(event, scrubKey);
  return withStackTexts(pieces, stacks).join('');
}

/**
 * `eventJson` in pieces, to be written out one after another (nodestore codec `encodeNode`):
 * joining them would copy the whole text once more. `stacks` names the pieces that are a stack's
 * kept text with its hash (protocol frames-text.ts), which a body may store apart; those pieces
 * are empty until filled from `text` (`withStackTexts`), as a body that refers to the stored text
 * never needs it.
 */
export function eventJsonParts(event: NormalizedEvent, scrubKey?: string): { pieces: string[]; stacks: StackPiece[] } {
  if (event._meta) return { pieces: [JSON.stringify(event)], stacks: [] };
  const swapped: { stack: { frames: unknown }; frames: unknown; unparsed: boolean; kept: Kept }[] = [];
  const visit = (stack: unknown) => {
    const kept = keptText(stack);
    if (kept === undefined) return;
    const s = stack as { frames: unknown };
    if (scrubKey !== undefined) rememberStack(s, scrubKey);
    const unparsed = isUnparsed(s);
    swapped.push({ stack: s, frames: unparsed ? undefined : s.frames, unparsed, kept });
    s.frames = `${FRAMES_MARKER}${swapped.length - 1}`;
  };
  for (const v of event.exception?.values ?? []) {
    visit(v.stacktrace);
    visit(v.raw_stacktrace);
  }
  for (const t of event.threads?.values ?? []) visit(t.stacktrace);
  visit(event.stacktrace);
  if (swapped.length === 0) return { pieces: [JSON.stringify(event)], stacks: [] };
  let json: string;
  try {
    json = JSON.stringify(event);
  } finally {
    for (const s of swapped) {
      // A stack not parsed yet gets its frames back from its text when read.
      if (s.unparsed) delete (s.stack as { frames?: unknown }).frames;
      else s.stack.frames = s.frames;
    }
  }
  // Put each text where its marker was written (a JSON string: the marker and its quotes). Markers
  // follow one another within exceptions and within threads, so each is looked for from the one
  // before (from the start again only where a group begins): searching the whole text for each of
  // 8,000 threads' markers took 0.3 s.
  let from = 0;
  const at = swapped
    .map((s, i) => {
      const marker = `"${FRAMES_MARKER}${i}"`;
      let pos = json.indexOf(marker, from);
      if (pos < 0) pos = json.indexOf(marker);
      from = pos + marker.length;
      return { s, pos, len: marker.length };
    })
    .sort((a, b) => a.pos - b.pos);
  const pieces: string[] = [];
  const stacks: StackPiece[] = [];
  let last = 0;
  for (const { s, pos, len } of at) {
    pieces.push(json.slice(last, pos));
    const { kept } = s;
    if (kept.hash !== null) {
      stacks.push({ piece: pieces.length, hash: kept.hash, text: () => kept.text });
      pieces.push('');
    } else {
      pieces.push(kept.text);
    }
    last = pos + len;
  }
  pieces.push(json.slice(last));
  return { pieces, stacks };
}

export interface ProcessedEvent {
  /**
   * The event's fields the save step reads; its large parts (stack traces, breadcrumbs, contexts,
   * ...) may already be gone, since `body` holds the whole event.
   */
  event: NormalizedEvent;
  /** The whole event as stored (nodestore codec), encoded while the batch was prepared (`readyForSave`). */
  body: EncodedNode;
  /** The event's message (event-fields.ts `eventMessage`), taken before its parts were let go. */
  message: string;
  grouping: EventGrouping;
  project: ProjectSettings;
  /** Size of the payload as received, in bytes. */
  size: number;
}

/** A saved event as post-processing needs it (rules: first seen, regression). */
export interface SavedEvent {
  projectId: number;
  groupId: number;
  eventId: string;
  /**
   * When ingest received it (Unix ms, `events.received`): with the project and event id, the id of
   * its body. Absent from tasks queued by releases before time-ordered body ids.
   */
  received?: number;
  /** This event created its issue. */
  isNew: boolean;
  /** This event reopened its resolved issue. */
  isRegression: boolean;
  /**
   * Post-processing has work for it: the project has alert rules, or the issue is not plainly
   * unresolved (a snooze may end, a regression may alert). Most events need none.
   */
  postProcess: boolean;
  /**
   * What alert rule filters read of the event (level, environment, tags), so post-processing need
   * not read its body. Absent from tasks queued by earlier releases.
   */
  ruleEvent?: RuleEvent;
  /**
   * Saved by an earlier delivery of its task (received then, Unix ms): the worker that saved it
   * may have died before queueing its post-process task, or after; rules that fired for this
   * event since then must not fire again.
   */
  redeliveredAfter?: number;
}

function ruleEventOf(event: NormalizedEvent): RuleEvent {
  return { level: event.level, environment: event.environment ?? null, tags: event.tags };
}

/** `events.post_process` flags: the event needs post-processing, created its issue, reopened it. */
const POST_PROCESS_PENDING = 1;
const POST_PROCESS_NEW = 2;
const POST_PROCESS_REGRESSION = 4;

function postProcessFlags(e: SavedEvent): number | null {
  if (!e.postProcess) return null;
  return POST_PROCESS_PENDING | (e.isNew ? POST_PROCESS_NEW : 0) | (e.isRegression ? POST_PROCESS_REGRESSION : 0);
}

export interface SaveResult {
  saved: number;
  duplicates: number;
  newGroups: number;
  events: SavedEvent[];
}

interface GroupState {
  id: number;
  status: string;
  lastSeen: number;
  /** What the issue shows now; refreshGroups writes only when the latest event changes it. */
  title: string;
  culprit: string | null;
  level: string;
  metadata: string;
  /** Created in this batch and not yet claimed by an event as its "first seen". */
  fresh?: boolean;
}

/** PostgreSQL types of the event index row's columns (for `insertRows`). */
const EVENT_ROW_TYPES = {
  project_id: 'bigint',
  group_id: 'bigint',
  event_id: 'text',
  type: 'text',
  timestamp: 'bigint',
  received: 'bigint',
  title: 'text',
  message: 'text',
  platform: 'text',
  level: 'text',
  release: 'text',
  environment: 'text',
  user_tag: 'text',
  size: 'bigint',
  post_process: 'integer',
};

/** A new issue's row, short id aside (createGroupPostgres, createGroupPortable). */
type NewGroupRow = Omit<Insertable<Database['groups']>, 'short_id'> & { project_id: number };

/** Rows per multi-row statement and values per IN list: far below every dialect's parameter limit. */
const CHUNK = 200;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function byProject<T>(items: T[], projectOf: (item: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const it of items) {
    const id = projectOf(it);
    let list = out.get(id);
    if (!list) out.set(id, (list = []));
    list.push(it);
  }
  return out;
}

/** The batch's events already saved by an earlier delivery, by `project:event_id`. */
async function savedBefore(trx: Transaction<Database>, dialect: Dialect, batch: ProcessedEvent[]) {
  const found = new Map<string, { group_id: number | null; timestamp: number; received: number; release: string | null; post_process: number | null }>();
  for (const [projectId, items] of byProject(batch, (i) => i.project.id)) {
    for (const part of chunks(items)) {
      const rows = await eventsByIds(trx, dialect, projectId, part.map((i) => i.event.event_id));
      for (const r of rows) {
        found.set(`${projectId}:${r.event_id}`, { group_id: r.group_id, timestamp: Number(r.timestamp), received: Number(r.received), release: r.release, post_process: r.post_process === null ? null : Number(r.post_process) });
      }
    }
  }
  return found;
}

/**
 * On SQLite, where no unique key turns away an event id sent twice (db/event-ids.ts): the batch's
 * events the project already has, looked up only for the ids the index or the tail may hold
 * (`all`: for every event of the batch, as after a redelivery).
 */
async function savedBeforeSqlite(trx: Transaction<Database>, recent: RecentEventIds, batch: ProcessedEvent[], all: boolean) {
  if (all) {
    await recent.refresh(trx);
    return savedBefore(trx, 'sqlite', batch);
  }
  const ids = new Map<number, string[]>();
  for (const [projectId, items] of byProject(batch, (i) => i.project.id)) ids.set(projectId, items.map((i) => i.event.event_id));
  const known = await knownEventIds(trx, recent, ids);
  const maybe = batch.filter((i) => known.has(`${i.project.id}:${i.event.event_id}`));
  return maybe.length ? savedBefore(trx, 'sqlite', maybe) : new Map<string, never>();
}

/**
 * Loads the issues of every hash in the batch with one query per project (and chunk) into `cache`.
 * `latest`: read rows committed after this transaction's first read too (MySQL's repeatable read
 * would otherwise keep showing its snapshot; a locking read sees the newest rows).
 */
async function loadGroups(trx: Transaction<Database>, batch: ProcessedEvent[], cache: Map<string, GroupState>, rowsByHash: Map<string, GroupState>, latest = false) {
  const dialect = dialectOfDb(trx);
  const locking = latest && dialect === 'mysql';
  for (const [projectId, items] of byProject(batch, (i) => i.project.id)) {
    const hashes = [...new Set(items.flatMap((i) => i.grouping.hashes))].filter((h) => !cache.has(`${projectId}:${h}`));
    // PostgreSQL takes them all as one array: a statement per 200 hashes was a round trip each.
    for (const part of dialect === 'postgres' ? (hashes.length ? [hashes] : []) : chunks(hashes)) {
      const rows = await trx
        .selectFrom('group_hashes')
        .innerJoin('groups', 'groups.id', 'group_hashes.group_id')
        .select(['group_hashes.hash', 'groups.id', 'groups.status', 'groups.last_seen', 'groups.title', 'groups.culprit', 'groups.level', 'groups.metadata'])
        .where('group_hashes.project_id', '=', projectId)
        .$call((qb) => (dialect === 'postgres' ? qb.where(inValues(dialect, 'group_hashes.hash', part, 'text')) : qb.where('group_hashes.hash', 'in', part)))
        .$if(locking, (qb) => qb.modifyEnd(sql`lock in share mode`))
        .execute();
      const states = new Map<number, GroupState>();
      for (const r of rows) {
        let state = states.get(r.id);
        if (!state) {
          state = { id: r.id, status: r.status, lastSeen: Number(r.last_seen), title: r.title, culprit: r.culprit, level: r.level, metadata: r.metadata };
          states.set(r.id, state);
        }
        rowsByHash.set(`${projectId}:${r.hash}`, state);
      }
    }
  }
}

export interface SaveOptions {
  /**
   * Look for events of the batch saved before (default true). A batch of tasks none of which was
   * delivered before can skip the lookup: an event id the project already has (an SDK that sent
   * it twice) then fails the events insert on its unique key, and the caller saves the batch again
   * one event at a time with the lookup. On PostgreSQL the lookup was a tenth of the database's
   * time per event. SQLite has no such key: there the ids the project may have are always
   * checked, in memory and in its bulk-filled index (db/event-ids.ts).
   */
  checkSaved?: boolean;
}

export async function saveBatch(ctx: BatchContext, batch: ProcessedEvent[], opts: SaveOptions = {}): Promise<SaveResult> {
  const { services } = ctx;
  const state: SaveState = {
    ctx,
    batch,
    opts,
    result: { saved: 0, duplicates: 0, newGroups: 0, events: [] },
    counters: [],
    points: [],
    // Dictionaries the worker made while preparing: written with the first bodies that use them.
    dictionaries: services.bodyDictionaries.unwritten(),
    // Stack texts the bodies refer to (codec format 4), likewise written with them.
    stacks: services.bodyDictionaries.unwrittenStacks(),
  };
  const { result, counters, dictionaries, stacks } = state;
  try {
    // A function of the module's, not a closure made for each batch: V8 optimized each new
    // closure of this large body afresh (about 120 ms of compiling on a background thread, once
    // every few batches, while the batch ran unoptimized; docs/decisions.md).
    await services.database.db.transaction().execute((trx) => saveInTransaction(trx, state));
  } catch (err) {
    if (services.buffer.transactional) services.buffer.discard();
    throw err;
  }
  services.bodyDictionaries.written(dictionaries);
  services.bodyDictionaries.stacksWritten(stacks);
  // Deferred buffers count after the commit; their dedupe keys make a redelivered event count once.
  if (!services.buffer.transactional) await services.buffer.incr(counters);
  // Time series outside SQL are written after the commit too: a rolled-back batch adds nothing.
  if (!services.tsdb.transactional) await services.tsdb.incrMulti(state.points);
  return result;
}

/** What `saveBatch` hands its transaction, and what the transaction leaves for after the commit. */
interface SaveState {
  ctx: BatchContext;
  batch: ProcessedEvent[];
  opts: SaveOptions;
  result: SaveResult;
  /** The batch's counters, for the buffer (in the transaction, or after the commit if deferred). */
  counters: GroupCounters[];
  /** Time series increments, for a tsdb outside SQL to write after the commit. */
  points: TsdbIncrement[];
  dictionaries: ReturnType<BodyDictionaries['unwritten']>;
  stacks: ReturnType<BodyDictionaries['unwrittenStacks']>;
}

async function saveInTransaction(trx: Transaction<Database>, s: SaveState): Promise<void> {
  const { ctx, batch, opts, result, counters, dictionaries, stacks } = s;
  const { services } = ctx;
  const dialect = services.database.dialect;
  // A deferred buffer takes each event's tag values with its counters (buffer/index.ts); otherwise
  // they are written in this transaction.
  const tagsWithCounters = services.buffer.carriesTagValues;
  const groupsByHash = new Map<string, GroupState>();
  const known = new Map<string, GroupState>();
  const latest = new Map<number, ProcessedEvent>();
  const counterOf = new Map<ProcessedEvent, GroupCounters>();
  const tags = new TagValueCounts();
  const points: TsdbIncrement[] = [];
  s.points = points;
  const bodies: { id: string; data: NodeData; timestamp: number }[] = [];
  const newInRelease: { project: ProjectSettings; release: string }[] = [];
  const rows: (Insertable<EventTable> & Record<keyof typeof EVENT_ROW_TYPES, unknown>)[] = [];
  /** The events saved now, one per row of `rows` (result.events also has redelivered ones). */
  const savedNow: SavedEvent[] = [];
  const seen = new Set<string>();
  counters.length = 0;
  result.events = [];

  // One query for the events saved before (redeliveries), one for the issues of all hashes.
  const fresh: ProcessedEvent[] = [];
  for (const item of batch) {
    const dedupeKey = `${item.project.id}:${item.event.event_id}`;
    if (seen.has(dedupeKey)) {
      result.duplicates++;
      continue;
    }
    seen.add(dedupeKey);
    fresh.push(item);
  }
  const recent = services.database.recentEventIds;
  const before = recent ? await savedBeforeSqlite(trx, recent, fresh, opts.checkSaved !== false) : opts.checkSaved === false ? new Map() : await savedBefore(trx, dialect, fresh);
  await loadGroups(trx, fresh, groupsByHash, known);
  if (dialect === 'postgres') {
    const unsaved = fresh.filter((i) => !before.has(`${i.project.id}:${i.event.event_id}`));
    await createNewGroupsPostgres(trx, groupsByHash, known, unsaved, result, newInRelease);
  }

  for (const item of fresh) {
    const { event, project } = item;
    const dedupeKey = `${project.id}:${event.event_id}`;
    const prior = before.get(dedupeKey);
    if (prior) {
      result.duplicates++;
      // A redelivered event: a deferred buffer may have missed it (crash after commit); its
      // dedupe key lets the buffer count it if, and only if, it was not counted yet.
      if (!services.buffer.transactional && prior.group_id) {
        counters.push({
          groupId: prior.group_id,
          timesSeen: 1,
          firstSeen: prior.timestamp,
          lastSeen: prior.timestamp,
          lastRelease: prior.release,
          dedupeKey,
          ...(tagsWithCounters ? { tagValues: { projectId: project.id, tags: event.tags } } : {}),
          // Counted only if its first delivery's increment was lost: then so was this.
          shown: shownBy(item),
        });
      }
      // Likewise time series kept outside SQL (they count each dedupe key once).
      if (!services.tsdb.transactional && prior.group_id) {
        points.push({ model: 'group', keyId: prior.group_id, timestamp: prior.timestamp, count: 1, dedupeKey });
        points.push({ model: 'project', keyId: project.id, timestamp: prior.timestamp, count: 1, dedupeKey });
      }
      // Its post-process task may never have been queued: queue it again (post-process.ts
      // skips the rules that already fired for the event).
      if (prior.post_process && prior.group_id) {
        result.events.push({
          projectId: project.id,
          groupId: prior.group_id,
          eventId: event.event_id,
          received: Number(prior.received),
          isNew: (prior.post_process & POST_PROCESS_NEW) !== 0,
          isRegression: (prior.post_process & POST_PROCESS_REGRESSION) !== 0,
          postProcess: true,
          ruleEvent: ruleEventOf(event),
          redeliveredAfter: prior.received,
        });
      }
      continue;
    }
    const ts = Math.round(event.timestamp * 1000);
    const received = Math.round(event.received * 1000);
    const group = await findOrCreateGroup(trx, dialect, groupsByHash, known, item, ts, result, newInRelease);
    rows.push({
      project_id: project.id,
      group_id: group.id,
      event_id: event.event_id,
      type: event.type,
      timestamp: ts,
      received,
      title: (event.title ?? '').slice(0, 1024),
      message: item.message.slice(0, 8192),
      platform: event.platform,
      level: event.level,
      release: event.release ?? null,
      environment: event.environment ?? null,
      user_tag: event.tags.find(([k]) => k === 'user')?.[1] ?? null,
      size: item.size,
      post_process: null, // set below, once regressions are known
    });
    result.saved++;
    savedNow.push({
      projectId: project.id,
      groupId: group.id,
      eventId: event.event_id,
      received,
      isNew: group.fresh === true,
      isRegression: false,
      postProcess: project.hasAlertRules || group.status !== 'unresolved',
      ruleEvent: ruleEventOf(event),
    });
    group.fresh = false;
    bodies.push({ id: eventNodeId(project.id, event.event_id, received), data: item.body, timestamp: ts });
    const counter: GroupCounters = {
      groupId: group.id,
      timesSeen: 1,
      firstSeen: ts,
      lastSeen: ts,
      lastRelease: event.release ?? null,
      dedupeKey,
      ...(tagsWithCounters ? { tagValues: { projectId: project.id, tags: event.tags } } : {}),
    };
    counters.push(counter);
    counterOf.set(item, counter);
    const prev = latest.get(group.id);
    if (!prev || prev.event.timestamp <= event.timestamp) latest.set(group.id, item);
    if (!tagsWithCounters) tags.addTags(project.id, group.id, event.tags, ts);
    points.push({ model: 'group', keyId: group.id, timestamp: ts, count: 1, dedupeKey });
    points.push({ model: 'project', keyId: project.id, timestamp: ts, count: 1, dedupeKey });
    if (event.release) await touchRelease(trx, dialect, project, event.release, ts);
  }

  const regressed = await refreshGroups(trx, dialect, groupsByHash, latest, counterOf, services.buffer.transactional);
  for (const [groupId, eventId] of regressed) {
    const saved = savedNow.find((e) => e.groupId === groupId && e.eventId === eventId);
    if (saved) saved.isRegression = true;
  }
  for (let i = 0; i < rows.length; i++) rows[i].post_process = postProcessFlags(savedNow[i]);
  result.events.push(...savedNow);
  // The event index rows in multi-row statements. On PostgreSQL and MySQL a concurrent
  // delivery of the same event (a lease that ran out mid-batch) makes this fail on the unique
  // key, and the worker then saves the batch one event at a time, where the check above sees
  // it; SQLite's single writer saw it above already.
  await insertRows(trx, dialect, 'events', EVENT_ROW_TYPES, rows, undefined, 'save.events');
  if (recent) await recent.mergeIfDue(trx, rows.length);
  await countNewGroups(trx, dialect, newInRelease);
  await services.bodyDictionaries.write(dictionaries, trx);
  await services.bodyDictionaries.writeStacks(stacks, trx);
  await services.nodestore.setMulti(bodies, trx);
  const newUsers = await services.tagstore.incrMulti(tags, trx);
  if (services.tsdb.transactional) await services.tsdb.incrMulti(points, trx);
  if (services.buffer.transactional) {
    // The tag values were written in this transaction: the issues' new affected users are known.
    if (newUsers && !tagsWithCounters) withUsersAdded(counters, newUsers);
    await services.buffer.incr(counters);
    await services.buffer.flush(trx);
  }
}

/** Gives each issue's first counter its new affected users (`usersAdded`), its others none. */
function withUsersAdded(counters: GroupCounters[], newUsers: Map<number, number>): void {
  const seen = new Set<number>();
  for (const c of counters) {
    c.usersAdded = seen.has(c.groupId) ? 0 : (newUsers.get(c.groupId) ?? 0);
    seen.add(c.groupId);
  }
}

async function findOrCreateGroup(
  trx: Transaction<Database>,
  dialect: Dialect,
  cache: Map<string, GroupState>,
  known: Map<string, GroupState>,
  item: ProcessedEvent,
  ts: number,
  result: SaveResult,
  newInRelease: { project: ProjectSettings; release: string }[],
  lookedAgain = false,
): Promise<GroupState> {
  const { project, grouping, event } = item;
  const hashes = grouping.hashes;
  for (const h of hashes) {
    const hit = cache.get(`${project.id}:${h}`);
    if (hit) return hit;
  }
  let group: GroupState;
  // The most preferred hash decides (app before system); the others join that issue.
  const best = hashes.map((h) => known.get(`${project.id}:${h}`)).find(Boolean);
  if (best) {
    group = best;
    const missing = hashes.filter((h) => !known.has(`${project.id}:${h}`));
    if (missing.length) {
      await insertIgnore(
        trx.insertInto('group_hashes').values(missing.map((hash) => ({ project_id: project.id, hash, group_id: group.id }))),
        dialect,
        ['project_id', 'hash'],
      ).execute();
    }
  } else {
    const row = newGroupRow(item, ts);
    const id = dialect === 'postgres' ? await createGroupPostgres(trx, row, hashes) : await createGroupPortable(trx, dialect, row, hashes);
    if (id === null) {
      // Another worker created the issue for one of these hashes since this batch looked them
      // up (a new error arriving at every worker at once): join that issue instead.
      if (lookedAgain) throw new Error(`issue for hashes ${hashes.join(', ')} is neither found nor creatable`);
      await loadGroups(trx, [item], cache, known, true);
      return findOrCreateGroup(trx, dialect, cache, known, item, ts, result, newInRelease, true);
    }
    group = newGroupState(id, row);
    result.newGroups++;
    if (event.release) newInRelease.push({ project, release: event.release });
  }
  for (const h of hashes) cache.set(`${project.id}:${h}`, group);
  return group;
}

/** A new issue's row for the event that first shows it, short id aside. */
function newGroupRow({ event, project }: ProcessedEvent, ts: number) {
  return {
    project_id: project.id,
    type: event.type === 'error' ? 'error' : 'default',
    title: (event.title ?? '<unlabeled event>').slice(0, 1024),
    culprit: event.culprit?.slice(0, 200) ?? null,
    level: event.level,
    platform: event.platform,
    logger: event.logger ?? null,
    status: 'unresolved',
    substatus: 'new',
    status_details: '{}',
    metadata: JSON.stringify(event.metadata ?? {}),
    times_seen: 0,
    users_seen: 0,
    first_seen: ts,
    last_seen: ts,
    first_release: event.release ?? null,
    last_release: event.release ?? null,
    resolved_at: null,
  } satisfies NewGroupRow;
}

function newGroupState(id: number, row: ReturnType<typeof newGroupRow>): GroupState {
  return { id, status: 'unresolved', lastSeen: row.first_seen, title: row.title, culprit: row.culprit, level: row.level, metadata: row.metadata, fresh: true };
}

/** PostgreSQL types of a new issue's row (`createGroupsPostgres`). */
const NEW_GROUP_TYPES: { [K in keyof ReturnType<typeof newGroupRow>]: string } = {
  project_id: 'bigint',
  type: 'text',
  title: 'text',
  culprit: 'text',
  level: 'text',
  platform: 'text',
  logger: 'text',
  status: 'text',
  substatus: 'text',
  status_details: 'text',
  metadata: 'text',
  times_seen: 'bigint',
  users_seen: 'bigint',
  first_seen: 'bigint',
  last_seen: 'bigint',
  first_release: 'text',
  last_release: 'text',
  resolved_at: 'bigint',
};

/**
 * PostgreSQL: creates the issues the batch's events are the first of, all of a project's in one
 * statement (`createGroupsPostgres`), before the events are saved one after another, so that
 * `findOrCreateGroup` finds them made. Which events share a new issue follows the order
 * `findOrCreateGroup` would take them in: an event joins the issue of the first of its hashes an
 * earlier event of the batch was given, else of its best hash already known; only an event with
 * neither makes a new issue, and every later event with one of its hashes joins it. A project
 * with one new issue, or whose issues another worker created meanwhile, is left to
 * `findOrCreateGroup`, which joins that worker's issue.
 */
async function createNewGroupsPostgres(
  trx: Transaction<Database>,
  cache: Map<string, GroupState>,
  known: Map<string, GroupState>,
  items: ProcessedEvent[],
  result: SaveResult,
  newInRelease: { project: ProjectSettings; release: string }[],
) {
  /** The hashes `findOrCreateGroup` will have put in `cache` by each event (`project:hash`). */
  const given = new Set<string>();
  const pending = new Map<number, { item: ProcessedEvent; row: ReturnType<typeof newGroupRow>; hashes: string[] }[]>();
  for (const item of items) {
    const { project } = item;
    const hashes = item.grouping.hashes;
    // An event without hashes has nothing to find its issue by later: `findOrCreateGroup` makes it.
    if (hashes.length === 0 || hashes.some((h) => given.has(`${project.id}:${h}`))) continue;
    const best = hashes.map((h) => known.get(`${project.id}:${h}`)).find(Boolean);
    let list = pending.get(project.id);
    if (!list) pending.set(project.id, (list = []));
    if (!best) list.push({ item, row: newGroupRow(item, Math.round(item.event.timestamp * 1000)), hashes: [...new Set(hashes)] });
    for (const h of hashes) given.add(`${project.id}:${h}`);
  }
  for (const [projectId, list] of pending) {
    if (list.length < 2) continue;
    const ids = await createGroupsPostgres(trx, projectId, list);
    if (ids === null) continue;
    list.forEach(({ item, row, hashes }, i) => {
      const group = newGroupState(ids[i], row);
      for (const h of hashes) cache.set(`${projectId}:${h}`, group);
      result.newGroups++;
      if (item.event.release) newInRelease.push({ project: item.project, release: item.event.release });
    });
  }
}

/**
 * Several new issues of one project on PostgreSQL in one statement: consecutive short ids, the
 * issue rows and their hashes (`createGroupPostgres` makes one; a round trip each made a worker
 * spend about 0.47 ms of CPU per new issue). Returns their ids in the order given; or null, with
 * nothing left behind and the short ids given back, when another transaction holds one of the
 * hashes. `hashes` of different issues must not overlap.
 */
async function createGroupsPostgres(trx: Transaction<Database>, projectId: number, groups: { row: ReturnType<typeof newGroupRow>; hashes: string[] }[]): Promise<number[] | null> {
  const n = groups.length;
  const columns = Object.keys(NEW_GROUP_TYPES) as (keyof typeof NEW_GROUP_TYPES)[];
  const arrays = columns.map((c) => sql`${groups.map((g) => g.row[c])}::${sql.raw(NEW_GROUP_TYPES[c])}[]`);
  const refs = sql.join(columns.map((c) => sql.ref(c)));
  const hashes = groups.flatMap((g) => g.hashes);
  const order = groups.flatMap((g, i) => g.hashes.map(() => i + 1));
  // Each issue's short id is the first one taken plus its place in the list, which also finds the
  // issue of each hash and says which id is whose.
  const r = await sql<{ id: number; place: number; inserted: number }>`
    with sid as (
      update projects set next_short_id = next_short_id + ${n} where id = ${projectId} returning next_short_id - ${n} as first
    ), g as (
      insert into groups (short_id, ${refs})
      select (select first from sid) + v.place - 1, ${sql.join(columns.map((c) => sql.ref(`v.${c}`)))}
      from unnest(${sql.join(arrays)}) with ordinality as v(${refs}, place)
      returning id, short_id
    ), h as (
      insert into group_hashes (project_id, hash, group_id)
      select ${projectId}, x.hash, g.id from unnest(${hashes}::text[], ${order}::bigint[]) as x(hash, place)
      join g on g.short_id = (select first from sid) + x.place - 1
      on conflict (project_id, hash) do nothing
      returning hash
    )
    select id, short_id - (select first from sid) + 1 as place, (select count(*) from h) as inserted from g`.execute(trx);
  const ids = new Array<number>(n);
  for (const row of r.rows) ids[Number(row.place) - 1] = Number(row.id);
  if (Number(r.rows[0]?.inserted) === hashes.length) return ids;
  // A hash is another issue's (ON CONFLICT waited for its transaction to commit): undo them all,
  // as `createGroupPostgres` does for one.
  await sql`with dh as (delete from group_hashes where group_id = any(${ids}::bigint[])), dg as (delete from groups where id = any(${ids}::bigint[]))
    update projects set next_short_id = next_short_id - ${n} where id = ${projectId}`.execute(trx);
  return null;
}

/**
 * A new issue on PostgreSQL in one round trip instead of three: the project's short id counter,
 * the issue row and its hashes in data-modifying CTEs. (Round trips are what a new issue costs
 * there: about 1.3 ms each on a busy machine, where the statements themselves take microseconds.)
 * Returns null, with nothing left behind, when another transaction holds one of the hashes.
 */
async function createGroupPostgres(trx: Transaction<Database>, row: NewGroupRow, hashes: string[]): Promise<number | null> {
  const columns = Object.keys(row) as (keyof typeof row)[];
  const r = await sql<{ id: number; inserted: number }>`
    with sid as (
      update projects set next_short_id = next_short_id + 1 where id = ${row.project_id} returning next_short_id - 1 as short_id
    ), g as (
      insert into groups (short_id, ${sql.join(columns.map((c) => sql.ref(c)))})
      values ((select short_id from sid), ${sql.join(columns.map((c) => sql`${row[c]}`))})
      returning id, project_id
    ), h as (
      insert into group_hashes (project_id, hash, group_id) select g.project_id, x, g.id from g, unnest(${hashes}::text[]) as x
      on conflict (project_id, hash) do nothing
      returning hash
    )
    select id, (select count(*) from h) as inserted from g`.execute(trx);
  const { id, inserted } = r.rows[0];
  if (Number(inserted) === new Set(hashes).size) return Number(id);
  // A hash is another issue's (ON CONFLICT waited for its transaction to commit). This
  // transaction still holds the project row it bumped, so giving the short id back is safe.
  await sql`with dh as (delete from group_hashes where group_id = ${id}), dg as (delete from groups where id = ${id})
    update projects set next_short_id = next_short_id - 1 where id = ${row.project_id}`.execute(trx);
  return null;
}

/** `createGroupPostgres` for SQLite and MySQL, in three statements (and their undo). */
async function createGroupPortable(trx: Transaction<Database>, dialect: Dialect, row: NewGroupRow, hashes: string[]): Promise<number | null> {
  const shortId = await nextShortIdIn(trx, row.project_id, dialect);
  const id = (await insertReturningId(trx.insertInto('groups').values({ ...row, short_id: shortId }), dialect))!;
  const unique = [...new Set(hashes)];
  const r = await insertIgnore(
    trx.insertInto('group_hashes').values(unique.map((hash) => ({ project_id: row.project_id, hash, group_id: id }))),
    dialect,
    ['project_id', 'hash'],
  ).executeTakeFirst();
  if (Number(r.numInsertedOrUpdatedRows ?? 0) === unique.length) return id;
  await trx.deleteFrom('group_hashes').where('group_id', '=', id).execute();
  await trx.deleteFrom('groups').where('id', '=', id).execute();
  await trx.updateTable('projects').set({ next_short_id: sql`next_short_id - 1` }).where('id', '=', row.project_id).execute();
  return null;
}

/** What an issue shows after `item`'s event (its title, culprit, level and metadata, as the issue row keeps them). */
function shownBy(item: ProcessedEvent): ShownFields {
  return {
    title: (item.event.title ?? '').slice(0, 1024),
    culprit: item.event.culprit?.slice(0, 200) ?? null,
    level: item.event.level,
    metadata: JSON.stringify(item.event.metadata ?? {}),
  };
}

/**
 * Latest event's title/culprit/level become the issue's: they go with its counters (`shown`), which
 * write them only if no later event was written before. A resolved issue regresses when its
 * resolution allows (regression.ts), with a `set_regression` activity, and shows its new event at
 * once. Returns the regressed issues with the event that reopened each.
 */
async function refreshGroups(
  trx: Transaction<Database>,
  dialect: Dialect,
  groups: Map<string, GroupState>,
  latest: Map<number, ProcessedEvent>,
  counterOf: Map<ProcessedEvent, GroupCounters>,
  countersInBatch: boolean,
) {
  const states = new Map<number, GroupState>();
  const regressions = new Map<number, string>();
  for (const g of groups.values()) states.set(g.id, g);
  /** Regressed issues, with what they show now if the event changes it. */
  const reopened: { groupId: number; item: ProcessedEvent; shown: ShownFields | null }[] = [];
  for (const [groupId, item] of latest) {
    const state = states.get(groupId)!;
    const shown = shownBy(item);
    const ts = Math.round(item.event.timestamp * 1000);
    const changed = ts >= state.lastSeen && (shown.title !== state.title || shown.culprit !== state.culprit || shown.level !== state.level || shown.metadata !== state.metadata);
    // A buffer flushed in this transaction sees the row as read here, so only a change is written.
    // A deferred one may hold, not yet flushed, an earlier event's fields that this one must
    // replace even where it matches the row: it always gets them.
    if (changed || !countersInBatch) counterOf.get(item)!.shown = shown;
    if (state.status !== 'resolved') continue;
    const release = item.event.release ?? null;
    if (!(await shouldRegress(trx, groupId, release, item.project.organizationId))) continue;
    reopened.push({ groupId, item, shown: changed ? shown : null });
  }
  if (reopened.length === 0 && !countersInBatch) return regressions;
  // Ascending ids, as the buffer's flush writes them, and locked in that order before the first
  // write: writers of the same issues wait for each other instead of deadlocking. When this
  // transaction also writes the counters (an in-process buffer), that is every issue of the batch.
  await lockRowsInOrder(trx, dialect, 'groups', countersInBatch ? [...latest.keys()] : reopened.map((r) => r.groupId));
  for (const { groupId, item, shown } of reopened) {
    const release = item.event.release ?? null;
    regressions.set(groupId, item.event.event_id);
    await trx.deleteFrom('group_resolutions').where('group_id', '=', groupId).execute();
    await recordActivity(trx, { projectId: item.project.id, groupId, type: 'set_regression', data: release ? { version: release } : {} });
    await trx
      .updateTable('groups')
      .set({ ...(shown ?? {}), status: 'unresolved', substatus: 'regressed', resolved_at: null, status_details: '{}' })
      .where('id', '=', groupId)
      .execute();
  }
  return regressions;
}

async function releaseId(trx: Transaction<Database>, dialect: Dialect, project: ProjectSettings, version: string, ts: number): Promise<number> {
  await insertIgnore(
    trx.insertInto('releases').values({ organization_id: project.organizationId, version, date_created: ts, date_released: null }),
    dialect,
    ['organization_id', 'version'],
  ).execute();
  const row = await trx
    .selectFrom('releases')
    .select('id')
    .where('organization_id', '=', project.organizationId)
    .where('version', '=', version)
    .executeTakeFirstOrThrow();
  await insertIgnore(
    trx.insertInto('release_projects').values({ release_id: row.id, project_id: project.id, new_groups: 0 }),
    dialect,
    ['release_id', 'project_id'],
  ).execute();
  return row.id;
}

/**
 * Releases this process has made sure of (`releaseId`), by `project:version`: their ids. An id is
 * only ever a hint: a release deleted since is made again where it is used (`countNewGroups`).
 */
const knownReleases = new Map<string, number>();

async function touchRelease(trx: Transaction<Database>, dialect: Dialect, project: ProjectSettings, version: string, ts: number) {
  const key = `${project.id}:${version}`;
  if (knownReleases.has(key)) return;
  const id = await releaseId(trx, dialect, project, version, ts);
  if (knownReleases.size > 10_000) knownReleases.clear();
  knownReleases.set(key, id);
}

/**
 * Adds the batch's new issues to each release's count: one UPDATE per release and project, with
 * the release's id as `touchRelease` found it (three more statements a batch on PostgreSQL, each a
 * round trip), or, where that updates nothing, as `releaseId` finds or makes it.
 */
async function countNewGroups(trx: Transaction<Database>, dialect: Dialect, items: { project: ProjectSettings; release: string }[]) {
  const counts = new Map<string, { project: ProjectSettings; release: string; n: number }>();
  for (const it of items) {
    const key = `${it.project.id}:${it.release}`;
    const cur = counts.get(key);
    if (cur) cur.n++;
    else counts.set(key, { ...it, n: 1 });
  }
  const add = async (id: number, projectId: number, n: number) => {
    const r = await trx
      .updateTable('release_projects')
      .set((eb) => ({ new_groups: eb('new_groups', '+', n) }))
      .where('release_id', '=', id)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  };
  for (const [key, { project, release, n }] of counts) {
    const known = knownReleases.get(key);
    if (known !== undefined && (await add(known, project.id, n))) continue;
    const id = await releaseId(trx, dialect, project, release, Date.now());
    knownReleases.set(key, id);
    await add(id, project.id, n);
  }
}
