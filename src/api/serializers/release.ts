/**
 * Releases and deploys in Sentry's API shape (`ReleaseSerializer`; sentry-cli's `ReleaseInfo`
 * needs only `version` and `dateCreated`, protocol.md §6.3;
 * fixtures/payloads/sentry-cli-responses/releases_get-release.json is the full example).
 * Left out: authors and commit objects (sentry-cli only reads `lastCommit.id`), `versionInfo`
 * parsing beyond the raw version.
 */
import type { Deploy, Release } from '../../db/index.js';
import { iso } from './issue.js';

export interface ReleaseProjectStats {
  id: number;
  slug: string;
  name: string;
  platform: string | null;
  newGroups: number;
  health: { totalSessions: number; sessionsCrashed: number; sessionsErrored: number; totalUsers: number; usersCrashed: number };
}

export interface ReleaseStats {
  projects: ReleaseProjectStats[];
  firstEvent: number | null;
  lastEvent: number | null;
  deployCount: number;
  lastDeploy: Deploy | null;
  /** Faultline extension: the latest deploy per environment. */
  environments?: Deploy[];
}

export function serializeDeploy(d: Deploy) {
  return { id: String(d.id), environment: d.environment, name: d.name, url: d.url, dateStarted: iso(d.date_started), dateFinished: iso(d.date_finished) };
}

const pct = (bad: number, total: number) => (total > 0 ? Math.round(10000 * (1 - bad / total)) / 100 : null);

function healthData(h: ReleaseProjectStats['health']) {
  return {
    totalSessions: h.totalSessions,
    sessionsCrashed: h.sessionsCrashed,
    sessionsErrored: h.sessionsErrored,
    crashFreeSessions: pct(h.sessionsCrashed, h.totalSessions),
    totalUsers: h.totalUsers,
    crashFreeUsers: pct(h.usersCrashed, h.totalUsers),
    hasHealthData: h.totalSessions > 0,
  };
}

export function serializeRelease(r: Release, s: ReleaseStats) {
  let lastCommit: { id: string } | null = null;
  if (r.last_commit_id) lastCommit = { id: r.last_commit_id };
  return {
    id: r.id,
    version: r.version,
    shortVersion: r.version,
    status: r.status ?? 'open',
    ref: r.ref,
    url: r.url,
    dateCreated: iso(r.date_created),
    dateStarted: iso(r.date_started),
    dateReleased: iso(r.date_released),
    data: {},
    newGroups: s.projects.reduce((n, p) => n + p.newGroups, 0),
    owner: null,
    commitCount: r.commit_count ?? 0,
    lastCommit,
    deployCount: s.deployCount,
    lastDeploy: s.lastDeploy ? serializeDeploy(s.lastDeploy) : null,
    firstEvent: iso(s.firstEvent),
    lastEvent: iso(s.lastEvent),
    authors: [],
    versionInfo: { buildHash: null, version: { raw: r.version }, description: r.version, package: null },
    projects: s.projects.map((p) => ({
      id: p.id,
      slug: p.slug,
      name: p.name,
      platform: p.platform,
      platforms: p.platform ? [p.platform] : [],
      newGroups: p.newGroups,
      healthData: healthData(p.health),
    })),
    ...(s.environments ? { deploys: s.environments.map(serializeDeploy) } : {}),
  };
}
