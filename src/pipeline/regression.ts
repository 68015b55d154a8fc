/**
 * Does an event reopen its resolved issue? Sentry's rules (`GroupResolution.has_resolution` and
 * `_handle_regression` in sentry/event_manager.py):
 * - plainly resolved: any new event regresses it;
 * - resolved in release X: only events from a release newer than X regress it; events without a
 *   release regress it too, since nothing says they are older;
 * - resolved in the next release: events from the release that was latest when it was resolved
 *   (or older) keep it resolved; events from any newer release regress it.
 * "Newer" is by semantic version when both versions parse (`package@1.2.3` or `1.2.3`), else by
 * the release's creation date, as Sentry falls back to date ordering.
 * Left out: Sentry's "resolved in commit" and its build-number ordering.
 */
import type { Transaction } from 'kysely';
import type { Database } from '../db/index.js';

type Semver = [number, number, number, string | null];

export function parseSemver(version: string): Semver | null {
  const m = /^(?:[^@\s]+@)?v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+\S*)?$/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? null] : null;
}

/** Negative, zero or positive like a sort comparator; null when the two do not parse. */
export function compareSemver(a: string, b: string): number | null {
  const x = parseSemver(a);
  const y = parseSemver(b);
  if (!x || !y) return null;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  // A pre-release sorts before its release (semver §11); two pre-releases compare as text.
  if (x[3] === y[3]) return 0;
  if (x[3] === null) return 1;
  if (y[3] === null) return -1;
  return x[3] < y[3] ? -1 : 1;
}

async function releaseDate(trx: Transaction<Database>, organizationId: number, version: string): Promise<number | null> {
  const row = await trx
    .selectFrom('releases')
    .select('date_created')
    .where('organization_id', '=', organizationId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row ? Number(row.date_created) : null;
}

async function isNewer(trx: Transaction<Database>, organizationId: number, version: string, than: string): Promise<boolean> {
  if (version === than) return false;
  const bySemver = compareSemver(version, than);
  if (bySemver !== null) return bySemver > 0;
  const [a, b] = [await releaseDate(trx, organizationId, version), await releaseDate(trx, organizationId, than)];
  return a !== null && b !== null ? a > b : a !== null;
}

export async function shouldRegress(trx: Transaction<Database>, groupId: number, release: string | null, organizationId: number): Promise<boolean> {
  const resolution = await trx.selectFrom('group_resolutions').selectAll().where('group_id', '=', groupId).executeTakeFirst();
  if (!resolution) return true;
  if (release === null) return true;
  if (resolution.release === null) return true;
  return isNewer(trx, organizationId, release, resolution.release);
}
