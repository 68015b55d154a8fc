/**
 * Step 4, after the batch committed: the PostProcessProcessor consumes one `post-process` task per
 * saved event, in the order Sentry's `post_process_group` uses: first snoozes (an ignored issue may
 * come back), then the project's alert rules (only for unresolved issues: Sentry does not alert
 * on ignored ones), each rule at most once per `frequency` minutes per issue (the claim on
 * `rule_group_status` is one conditional UPDATE, so two workers cannot both fire it), then one
 * queued `notify` job per action — or, when the rule is noisy, a pending digest entry. A task for
 * a redelivered event (save.ts) skips the rules that already fired for that event.
 * Left out: ownership rules, and Sentry's "alert for each event" fast path.
 */
import { sql, type Kysely } from 'kysely';
import type { Database, Group } from '../db/index.js';
import { eventById } from '../db/event-ids.js';
import { countUpTo, dialectOfDb, insertIgnore, inValues } from '../db/sql.js';
import { rulePasses, type RuleEvent } from '../alerts/evaluate.js';
import type { RuleData } from '../alerts/rules.js';
import { enqueueNotify } from '../notify/job.js';
import { getEventBodies } from '../services/nodestore/index.js';
import type { QueueTask } from '../services/queue/index.js';
import { countEvents, countUsers } from './issue-counts.js';
import { decodePostProcessTask, POST_PROCESS_QUEUE, type PostProcessTask } from './post-process-task.js';
import { QueueProcessor } from './queue-processor.js';
import { createBatchContext } from './context.js';
import { processSnooze } from './snooze.js';

/** Claims the right to fire `ruleId` for `groupId` now; false while its frequency window is open. */
export async function claimRule(db: Kysely<Database>, ruleId: number, groupId: number, frequencyMin: number, now: number): Promise<boolean> {
  const ins = await insertIgnore(
    db.insertInto('rule_group_status').values({ rule_id: ruleId, group_id: groupId, last_active: now }),
    dialectOfDb(db),
    ['rule_id', 'group_id'],
  ).executeTakeFirst();
  if (Number(ins.numInsertedOrUpdatedRows ?? 0) > 0) return true;
  const upd = await db
    .updateTable('rule_group_status')
    .set({ last_active: now })
    .where('rule_id', '=', ruleId)
    .where('group_id', '=', groupId)
    .where('last_active', '<=', now - frequencyMin * 60_000)
    .executeTakeFirst();
  return Number(upd.numUpdatedRows) > 0;
}

/**
 * The rules that already fired for an event since `since`: a redelivered event's post-process
 * task may be its second (the first was queued, or even processed, before the worker died).
 */
async function rulesFiredFor(db: Kysely<Database>, ruleIds: number[], eventId: string, since: number): Promise<Set<number>> {
  const rows = await db
    .selectFrom('rule_fires')
    .select('rule_id')
    .where('rule_id', 'in', ruleIds)
    .where('date_added', '>=', since)
    .where('event_id', '=', eventId)
    .execute();
  return new Set(rows.map((r) => Number(r.rule_id)));
}

export class PostProcessProcessor extends QueueProcessor {
  readonly queue = POST_PROCESS_QUEUE;
  // Every saved event of a project with alert rules comes through here: larger batches take and
  // ack the queue less often per event.
  override readonly batchSize = 100;
  readonly #ctx = createBatchContext(this.services);
  /** The batch's tasks, decoded, and their issues, read in one query (`prepare`). */
  #decoded = new Map<string, PostProcessTask>();
  #groups = new Map<number, Group>();

  protected override async prepare(tasks: QueueTask[]): Promise<void> {
    this.#decoded.clear();
    this.#groups.clear();
    try {
      for (const task of tasks) this.#decoded.set(task.id, decodePostProcessTask(task.payload));
      const ids = [...new Set([...this.#decoded.values()].map((t) => t.groupId))];
      const { db, dialect } = this.services.database;
      const rows = await db.selectFrom('groups').selectAll().where(inValues(dialect, 'id', ids, 'bigint')).execute();
      for (const g of rows) this.#groups.set(g.id, g);
    } catch (err) {
      // Each task is then decoded and its issue read on its own, where a failure is that task's.
      this.log.warn({ err }, 'reading a post-process batch at once failed');
      this.#groups.clear();
    }
  }

  async process(task: QueueTask): Promise<void> {
    const t = this.#decoded.get(task.id) ?? decodePostProcessTask(task.payload);
    const db = this.services.database.db;
    let group = this.#groups.get(t.groupId) ?? (await db.selectFrom('groups').selectAll().where('id', '=', t.groupId).executeTakeFirst());
    if (!group) return; // deleted or merged away since
    if (await processSnooze(db, group)) {
      group = { ...group, status: 'unresolved' };
      this.#groups.set(group.id, group);
    }
    if (group.status !== 'unresolved') return;
    // The project's rules come with its cached settings (the rules API clears them on a change).
    const rules = (await this.#ctx.project(t.projectId))?.alertRules ?? [];
    if (rules.length === 0) return;
    const event = t.ruleEvent ?? (await this.#ruleEventFromBody(t));
    const now = Date.now();
    const firedBefore = t.redeliveredAfter ? await rulesFiredFor(db, rules.map((r) => r.id), t.eventId, t.redeliveredAfter) : new Set<number>();
    // An issue with no more events (or users) in its whole life than a threshold cannot have more
    // in any window of it, and most issues are small: their row answers without reading the events
    // index. Only where the counters are written with the events (`buffer.transactional`); a
    // deferred buffer's may lag behind them.
    const lifetime = this.services.buffer.transactional;
    for (const rule of rules) {
      if (firedBefore.has(rule.id)) continue;
      const data = rule.data;
      const subject = {
        event,
        firstSeen: Number(group.first_seen),
        isNew: t.isNew,
        isRegression: t.isRegression,
        countEvents: (since: number, cap: number) => (lifetime && Number(group.times_seen) < cap ? Number(group.times_seen) : countEvents(db, group.id, since, cap)),
        countUsers: (since: number, cap: number) => (lifetime && Number(group.users_seen) < cap ? Number(group.users_seen) : countUsers(db, group.id, since, cap)),
        now,
      };
      if (!(await rulePasses(data, rule.environment, subject))) continue;
      await this.#fire(rule.id, data, group, t, now);
    }
  }

  /** What rules read of the event, from its body: for tasks queued before they carried it. */
  async #ruleEventFromBody(t: PostProcessTask): Promise<RuleEvent> {
    const db = this.services.database.db;
    const received =
      t.received ?? (await eventById(db, this.services.database.dialect, t.projectId, t.eventId))?.received;
    const [body] = (received === undefined ? [null] : await getEventBodies(this.services.nodestore, [{ project_id: t.projectId, event_id: t.eventId, received }])) as (Record<string, any> | null)[];
    return {
      level: String(body?.level ?? 'error'),
      environment: (body?.environment as string | undefined) ?? null,
      tags: Array.isArray(body?.tags) ? (body.tags as [string, string][]) : [],
    };
  }

  /**
   * Claims the rule's frequency window, records the fire and queues the rule's actions (or parks
   * the fire for the digest when the rule is noisy) in one transaction: a failure anywhere before
   * the commit leaves the rule unclaimed for the retry. At least once: only a commit that fails
   * after the actions were queued can send them twice.
   */
  async #fire(ruleId: number, data: RuleData, group: Group, t: PostProcessTask, now: number): Promise<void> {
    const { digestIntervalMs, digestThreshold } = this.services.config;
    await this.services.database.db.transaction().execute(async (trx) => {
      if (!(await claimRule(trx, ruleId, group.id, data.frequency, now))) return;
      // Counted only as far as the threshold: a rule that fires for every event of a busy issue
      // has thousands of fires in the window.
      const fires = trx.selectFrom('rule_fires').select(sql<number>`1`.as('one')).where('rule_id', '=', ruleId).where('date_added', '>', now - digestIntervalMs);
      const digest = (await countUpTo(trx, fires, digestThreshold)) >= digestThreshold;
      await trx.insertInto('rule_fires').values({ rule_id: ruleId, group_id: group.id, event_id: t.eventId, digest: digest ? 1 : 0, date_added: now }).execute();
      if (digest) return;
      await enqueueNotify(
        this.services.queue,
        data.actions.map((_a, actionIndex) => ({
          ruleId,
          actionIndex,
          projectId: t.projectId,
          digest: false,
          items: [{ groupId: group.id, eventId: t.eventId, firedAt: now }],
        })),
      );
    });
  }
}
