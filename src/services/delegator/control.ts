/**
 * The delegator's run-time settings: which backend is primary, which shadow it, and which calls
 * are sampled, per service. Defaults come from configuration; a row in `delegator_settings`
 * (written by `PUT /api/0/internal/delegator/`) overrides them, and every process re-reads the
 * table every couple of seconds, so a switch reaches the whole fleet without a restart — the
 * "choose backends at runtime" and "quickly shed load" abilities of Sentry's delegator (seeds/001).
 *
 * Left out: push notification of changes (a poll of one tiny table is cheaper than another moving
 * part) and per-method settings.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { CallScope, DelegatorRouter, DelegatorSettings } from './index.js';

/** Fields a PUT may change; null clears the override so the configured default applies again. */
export type SettingsPatch = { [K in keyof DelegatorSettings]?: DelegatorSettings[K] | null };

type Row = Database['delegator_settings'];

const parseList = (s: string | null): number[] | undefined => (s === null ? undefined : (JSON.parse(s) as number[]));

function overlay(defaults: DelegatorSettings, row: Row | undefined): DelegatorSettings {
  if (!row) return defaults;
  const primary = row.primary_backend ?? defaults.primary;
  // Switching the primary without naming secondaries keeps writing the old primary: the
  // "switch reads, keep writing both" step of a migration, so switching back loses nothing.
  const implied = [...new Set([...defaults.secondaries, defaults.primary])].filter((n) => n !== primary);
  return {
    primary,
    secondaries: row.secondaries === null ? implied : (JSON.parse(row.secondaries) as string[]),
    sampleRate: row.sample_rate ?? defaults.sampleRate,
    organizations: parseList(row.organizations) ?? defaults.organizations,
    projects: parseList(row.projects) ?? defaults.projects,
  };
}

/** The effective settings of `service`: the stored override over `defaults`. */
export async function readSettings(db: Kysely<Database>, service: string, defaults: DelegatorSettings): Promise<DelegatorSettings> {
  const row = await db.selectFrom('delegator_settings').selectAll().where('service', '=', service).executeTakeFirst();
  return overlay(defaults, row);
}

/** Stores an override (only the fields in `patch`; null resets one to the configured default). */
export async function writeSettings(db: Kysely<Database>, service: string, patch: SettingsPatch): Promise<void> {
  const cur = await db.selectFrom('delegator_settings').selectAll().where('service', '=', service).executeTakeFirst();
  const row: Row = {
    service,
    primary_backend: cur?.primary_backend ?? null,
    secondaries: cur?.secondaries ?? null,
    sample_rate: cur?.sample_rate ?? null,
    organizations: cur?.organizations ?? null,
    projects: cur?.projects ?? null,
    updated_at: Date.now(),
  };
  if (patch.primary !== undefined) row.primary_backend = patch.primary;
  if (patch.secondaries !== undefined) row.secondaries = patch.secondaries === null ? null : JSON.stringify(patch.secondaries);
  if (patch.sampleRate !== undefined) row.sample_rate = patch.sampleRate;
  if (patch.organizations !== undefined) row.organizations = patch.organizations === null ? null : JSON.stringify(patch.organizations);
  if (patch.projects !== undefined) row.projects = patch.projects === null ? null : JSON.stringify(patch.projects);
  // Read-then-write is fine here: settings change by hand, a few times per migration.
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('delegator_settings').where('service', '=', service).execute();
    await trx.insertInto('delegator_settings').values(row).execute();
  });
}

/** The router of one process: settings cached in memory, refreshed from SQL on a timer. */
export class DelegatorControl implements DelegatorRouter {
  readonly #db: Kysely<Database>;
  readonly #defaults: Record<string, DelegatorSettings>;
  readonly #available: Record<string, string[]>;
  #settings: Record<string, DelegatorSettings>;
  /** Projects of the organizations named in a filter, so a call that only knows its project can match. */
  #orgProjects = new Map<string, Set<number>>();
  #timer: NodeJS.Timeout | null = null;
  #onError: (err: unknown) => void;

  constructor(
    db: Kysely<Database>,
    defaults: Record<string, DelegatorSettings>,
    /** The backends each service has in this process; a stored primary outside it is ignored. */
    available: Record<string, string[]>,
    onError: (err: unknown) => void = () => {},
  ) {
    this.#db = db;
    this.#defaults = defaults;
    this.#available = available;
    this.#settings = { ...defaults };
    this.#onError = onError;
  }

  /** Re-reads the stored settings now. */
  async refresh(): Promise<void> {
    const rows = await this.#db.selectFrom('delegator_settings').selectAll().execute();
    const next: Record<string, DelegatorSettings> = {};
    const orgProjects = new Map<string, Set<number>>();
    for (const [service, defaults] of Object.entries(this.#defaults)) {
      const s = overlay(defaults, rows.find((r) => r.service === service));
      const names = this.#available[service] ?? [];
      if (!names.includes(s.primary)) s.primary = defaults.primary;
      s.secondaries = s.secondaries.filter((n) => names.includes(n));
      next[service] = s;
      if (s.organizations.length > 0) {
        const ps = await this.#db.selectFrom('projects').select('id').where('organization_id', 'in', s.organizations).execute();
        orgProjects.set(service, new Set(ps.map((p) => p.id)));
      }
    }
    this.#settings = next;
    this.#orgProjects = orgProjects;
  }

  /** Loads the settings, then keeps them fresh every `intervalMs`. */
  async start(intervalMs = 2_000): Promise<void> {
    await this.refresh().catch(this.#onError);
    const tick = () => {
      this.#timer = setTimeout(() => void this.refresh().catch(this.#onError).finally(() => this.#timer && tick()), intervalMs);
      this.#timer.unref();
    };
    tick();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  settings(service: string): DelegatorSettings | undefined {
    return this.#settings[service];
  }

  primary(service: string): string {
    return this.#settings[service]?.primary ?? this.#defaults[service].primary;
  }

  secondaries(service: string): string[] {
    return this.#settings[service]?.secondaries ?? [];
  }

  sampled(service: string, scope: CallScope): boolean {
    const s = this.#settings[service];
    if (!s) return false;
    if (s.organizations.length > 0 || s.projects.length > 0) {
      if (scope.organizationId != null && s.organizations.includes(scope.organizationId)) return true;
      if (scope.projectId != null && (s.projects.includes(scope.projectId) || this.#orgProjects.get(service)?.has(scope.projectId))) return true;
      return false;
    }
    return s.sampleRate >= 1 || Math.random() < s.sampleRate;
  }
}
