/**
 * What a notification says, independent of how it travels: the rule, the project and the issues
 * (one for an alert, several for a digest) with links to them, loaded once per job. Bodies for
 * each channel are built from this (email.ts, webhook.ts, slack.ts).
 */
import { publicUrl } from '../config/index.js';
import { shortId } from '../api/serializers/issue.js';
import type { Services } from '../services/index.js';
import type { RuleAction, RuleData } from '../alerts/rules.js';
import type { NotifyJob } from './job.js';

export interface MessageIssue {
  id: number;
  shortId: string;
  title: string;
  culprit: string;
  level: string;
  count: number;
  userCount: number;
  url: string;
  eventId: string;
  firedAt: number;
}

export interface NotifyMessage {
  rule: { id: number; name: string };
  action: RuleAction;
  organization: { id: number; slug: string };
  project: { id: number; slug: string; name: string };
  digest: boolean;
  issues: MessageIssue[];
}

/** Null when the rule, action or project is gone: the job has nothing left to say. */
export async function loadMessage(services: Services, job: NotifyJob): Promise<NotifyMessage | null> {
  const db = services.database.db;
  const rule = await db.selectFrom('alert_rules').selectAll().where('id', '=', job.ruleId).executeTakeFirst();
  const action = rule ? (JSON.parse(rule.data) as RuleData).actions[job.actionIndex] : undefined;
  const project = await db.selectFrom('projects').selectAll().where('id', '=', job.projectId).executeTakeFirst();
  if (!rule || !action || !project) return null;
  const org = await db.selectFrom('organizations').select(['id', 'slug']).where('id', '=', project.organization_id).executeTakeFirstOrThrow();
  const ids = [...new Set(job.items.map((i) => i.groupId))];
  const groups = new Map((await db.selectFrom('groups').selectAll().where('id', 'in', ids).execute()).map((g) => [g.id, g]));
  const base = publicUrl(services.config);
  const issues: MessageIssue[] = [];
  for (const item of job.items) {
    const g = groups.get(item.groupId);
    if (!g) continue;
    issues.push({
      id: g.id,
      shortId: shortId(project.slug, Number(g.short_id)),
      title: g.title,
      culprit: g.culprit ?? '',
      level: g.level,
      count: Number(g.times_seen),
      userCount: Number(g.users_seen),
      url: `${base}/organizations/${org.slug}/issues/${g.id}/`,
      eventId: item.eventId,
      firedAt: item.firedAt,
    });
  }
  if (issues.length === 0) return null;
  return {
    rule: { id: rule.id, name: rule.label },
    action,
    organization: org,
    project: { id: project.id, slug: project.slug, name: project.name },
    digest: job.digest,
    issues,
  };
}

export function subjectOf(m: NotifyMessage): string {
  if (m.digest) return `[${m.project.slug}] ${m.issues.length} alerts from "${m.rule.name}"`;
  const i = m.issues[0];
  return `[${m.project.slug}] ${i.level.toUpperCase()}: ${i.title}`.slice(0, 250);
}
