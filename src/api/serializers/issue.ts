/** The Issue object in Sentry's API shape (protocol.md §8.2): ids and `count` are strings. */
import type { Group } from '../../db/index.js';
import type { IssueTriage } from './issue-triage.js';

export interface ProjectRef {
  id: number;
  slug: string;
  name: string;
  platform: string | null;
}

export const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString());

/** Sentry writes the short id number in Crockford-style base32 (`sentry.utils.strings.base32_encode`). */
const BASE32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function shortId(projectSlug: string, n: number): string {
  let s = '';
  let v = Math.max(0, Math.floor(n));
  do {
    s = BASE32[v % 32] + s;
    v = Math.floor(v / 32);
  } while (v > 0);
  return `${projectSlug.toUpperCase()}-${s}`;
}

export function serializeIssue(
  g: Group,
  project: ProjectRef,
  baseUrl: string,
  orgSlug: string,
  stats?: Record<string, [number, number][]>,
  triage?: IssueTriage,
) {
  return {
    id: String(g.id),
    shortId: shortId(project.slug, Number(g.short_id)),
    title: g.title,
    culprit: g.culprit ?? '',
    permalink: `${baseUrl}/organizations/${orgSlug}/issues/${g.id}/`,
    logger: g.logger,
    level: g.level,
    status: g.status,
    statusDetails: JSON.parse(g.status_details),
    substatus: g.substatus,
    isPublic: false,
    platform: g.platform,
    project: { id: String(project.id), name: project.name, slug: project.slug, platform: project.platform },
    type: g.type,
    metadata: JSON.parse(g.metadata),
    numComments: triage?.numComments ?? 0,
    assignedTo: triage?.assignedTo ?? null,
    isBookmarked: triage?.isBookmarked ?? false,
    isSubscribed: triage?.isSubscribed ?? false,
    subscriptionDetails: null,
    hasSeen: false,
    annotations: [],
    issueType: 'error',
    issueCategory: 'error',
    count: String(g.times_seen),
    userCount: Number(g.users_seen),
    firstSeen: iso(g.first_seen),
    lastSeen: iso(g.last_seen),
    firstRelease: g.first_release ? { version: g.first_release } : null,
    lastRelease: g.last_release ? { version: g.last_release } : null,
    ...(stats ? { stats } : {}),
  };
}
