/**
 * Release health from session items: per project, release, environment and hour, how many
 * sessions started and how many ended errored, abnormal or crashed (`release_sessions`), and the
 * distinct users (`did`, stored as a SHA-1) per release with whether one of their sessions
 * crashed (`release_session_users`). Crash-free rates are computed from these when read.
 *
 * Counting follows Sentry's session semantics (develop docs "Sessions"): an individual `session`
 * update counts once as started when `init` is true; it counts as crashed / abnormal when its
 * status says so, and as errored when it ends (exited/crashed/abnormal/errored) with errors > 0.
 * A `sessions` aggregate bucket carries finished sessions by final state: its total is
 * exited + errored + abnormal + crashed. Sessions without a release are not counted here (the
 * `outcomes` table still counts them).
 *
 * Left out: session duration, per-minute buckets, and de-duplicating a client that re-sends the
 * same update (Relay does not either).
 */
import { createHash } from 'node:crypto';
import type { Dialect } from '../db/index.js';
import { upsert } from '../db/sql.js';
import type { Executor } from '../services/index.js';
import type { IngestTask } from '../services/queue/ingest-task.js';
import { bucketOf } from '../services/tsdb/index.js';

export interface SessionCount {
  projectId: number;
  release: string;
  environment: string;
  timestamp: number;
  sessions: number;
  errored: number;
  abnormal: number;
  crashed: number;
  did: string | null;
  userCrashed: boolean;
}

const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
const s = (v: unknown, max: number) => (typeof v === 'string' && v ? v.slice(0, max) : null);

function time(v: unknown, fallback: number): number {
  const t = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v * 1000 : NaN;
  return Number.isFinite(t) ? t : fallback;
}

/** What a `session` or `sessions` item counts; [] for other items or unreadable payloads. */
export function sessionCountsForItem(task: IngestTask): SessionCount[] {
  if (task.itemType !== 'session' && task.itemType !== 'sessions') return [];
  let p: any;
  try {
    p = JSON.parse(task.payload);
  } catch {
    return [];
  }
  const release = s(p?.attrs?.release, 250);
  if (!release) return [];
  const environment = s(p?.attrs?.environment, 64) ?? 'production';
  const base = { projectId: task.projectId, release, environment };
  if (task.itemType === 'session') {
    const status = String(p.status ?? 'ok');
    const ended = ['exited', 'crashed', 'abnormal', 'errored'].includes(status);
    const crashed = status === 'crashed';
    return [{
      ...base,
      timestamp: time(p.started, task.receivedAt),
      sessions: p.init === true ? 1 : 0,
      errored: status === 'errored' || (ended && n(p.errors) > 0) || crashed ? 1 : 0,
      abnormal: status === 'abnormal' ? 1 : 0,
      crashed: crashed ? 1 : 0,
      did: s(p.did, 200),
      userCrashed: crashed,
    }];
  }
  const out: SessionCount[] = [];
  for (const a of Array.isArray(p.aggregates) ? p.aggregates : []) {
    const crashed = n(a?.crashed);
    out.push({
      ...base,
      timestamp: time(a?.started, task.receivedAt),
      sessions: n(a?.exited) + n(a?.errored) + n(a?.abnormal) + crashed,
      errored: n(a?.errored) + crashed,
      abnormal: n(a?.abnormal),
      crashed,
      did: s(a?.did, 200),
      userCrashed: crashed > 0,
    });
  }
  return out;
}

export async function saveSessionCounts(db: Executor, dialect: Dialect, counts: SessionCount[]): Promise<void> {
  for (const c of counts) {
    if (c.sessions + c.errored + c.abnormal + c.crashed > 0) {
      const row = { project_id: c.projectId, release: c.release, environment: c.environment, bucket: bucketOf(c.timestamp, 3600), sessions: c.sessions, errored: c.errored, abnormal: c.abnormal, crashed: c.crashed };
      await upsert(db.insertInto('release_sessions').values(row), dialect, 'release_sessions', ['project_id', 'release', 'environment', 'bucket'], {
        sessions: 'add', errored: 'add', abnormal: 'add', crashed: 'add',
      }).execute();
    }
    if (c.did) {
      const row = { project_id: c.projectId, release: c.release, did_hash: createHash('sha1').update(c.did).digest('hex'), crashed: c.userCrashed ? 1 : 0, last_seen: c.timestamp };
      await upsert(db.insertInto('release_session_users').values(row), dialect, 'release_session_users', ['project_id', 'release', 'did_hash'], {
        crashed: 'max', last_seen: 'max',
      }).execute();
    }
  }
}
