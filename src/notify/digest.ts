/**
 * Digests for noisy rules: post-processing parks a rule's fires as pending (`rule_fires.digest = 1`)
 * once the rule fired more than FAULTLINE_DIGEST_THRESHOLD times within FAULTLINE_DIGEST_INTERVAL_MS;
 * this collects them per rule into one notify job per action (Sentry's digests: one mail listing
 * the issues instead of one mail per alert). Jobs are enqueued before the rows are marked sent,
 * so a crash in between sends a digest twice rather than never.
 */
import type { Services } from '../services/index.js';
import type { RuleData } from '../alerts/rules.js';
import { enqueueNotify } from './job.js';

/**
 * How long a fire is kept. The noisy-rule window needs only minutes, but a fire is also how a
 * redelivered event's post-processing knows the rule already fired for that event (post-process.ts):
 * kept a week, so workers that were down for less than that cannot alert twice for one event.
 */
export const RULE_FIRES_KEPT_MS = 7 * 86_400_000;

export async function sendDigests(services: Services): Promise<number> {
  const db = services.database.db;
  const pending = await db
    .selectFrom('rule_fires')
    .innerJoin('alert_rules', 'alert_rules.id', 'rule_fires.rule_id')
    .select(['rule_fires.id', 'rule_fires.rule_id', 'rule_fires.group_id', 'rule_fires.event_id', 'rule_fires.date_added', 'alert_rules.project_id', 'alert_rules.data'])
    .where('rule_fires.digest', '=', 1)
    .orderBy('rule_fires.id')
    .limit(5_000)
    .execute();
  const byRule = new Map<number, typeof pending>();
  for (const row of pending) byRule.set(row.rule_id, [...(byRule.get(row.rule_id) ?? []), row]);
  for (const [ruleId, rows] of byRule) {
    const data = JSON.parse(rows[0].data) as RuleData;
    const items = rows.map((r) => ({ groupId: r.group_id, eventId: r.event_id, firedAt: Number(r.date_added) }));
    await enqueueNotify(services.queue, data.actions.map((_a, actionIndex) => ({ ruleId, actionIndex, projectId: rows[0].project_id, digest: true, items })));
    await db.updateTable('rule_fires').set({ digest: 2 }).where('id', 'in', rows.map((r) => r.id)).execute();
  }
  await db.deleteFrom('rule_fires').where('digest', '!=', 1).where('date_added', '<', Date.now() - RULE_FIRES_KEPT_MS).execute();
  return pending.length;
}
