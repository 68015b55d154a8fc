/**
 * Table types for Kysely: the metadata schema as the code sees it.
 *
 * Times are Unix milliseconds (integers) in every dialect, so ordering and arithmetic are the
 * same on SQLite, PostgreSQL and MySQL. JSON columns are text holding JSON, parsed at the edge.
 * Event bodies are not here: they live in the nodestore service.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export interface OrganizationTable {
  id: Generated<number>;
  slug: string;
  name: string;
  date_created: number;
}

export interface UserTable {
  id: Generated<number>;
  email: string;
  name: string;
  password_hash: string | null;
  is_superuser: number;
  date_created: number;
}

export interface OrganizationMemberTable {
  id: Generated<number>;
  organization_id: number;
  user_id: number;
  role: string;
  date_created: number;
}

export interface ProjectTable {
  id: Generated<number>;
  organization_id: number;
  slug: string;
  name: string;
  platform: string | null;
  /** Server-side fingerprinting rules text (Sentry's `fingerprintingRules`). */
  fingerprinting_rules: string;
  /** Other project options as a JSON object. */
  options: string;
  /** The counter behind issue short ids (PROJECT-1, PROJECT-2, ...). */
  next_short_id: number;
  date_created: number;
}

export interface ProjectKeyTable {
  id: Generated<number>;
  project_id: number;
  public_key: string;
  secret_key: string;
  label: string;
  is_active: number;
  date_created: number;
}

export interface ApiTokenTable {
  id: Generated<number>;
  /** sha256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  token_last_characters: string;
  name: string;
  user_id: number | null;
  organization_id: number | null;
  /** Space-separated scopes, e.g. "project:read event:write org:read". */
  scopes: string;
  date_created: number;
  last_used: number | null;
}

export interface GroupTable {
  id: Generated<number>;
  project_id: number;
  short_id: number;
  type: string;
  title: string;
  culprit: string | null;
  level: string;
  platform: string | null;
  logger: string | null;
  status: string;
  substatus: string | null;
  status_details: string;
  metadata: string;
  times_seen: number;
  users_seen: number;
  first_seen: number;
  last_seen: number;
  first_release: string | null;
  last_release: string | null;
  resolved_at: number | null;
}

export interface GroupHashTable {
  id: Generated<number>;
  project_id: number;
  hash: string;
  group_id: number;
}

export interface EventTable {
  id: Generated<number>;
  project_id: number;
  group_id: number | null;
  event_id: string;
  type: string;
  timestamp: number;
  received: number;
  title: string;
  message: string;
  platform: string;
  level: string;
  release: string | null;
  environment: string | null;
  user_tag: string | null;
  size: number;
}

export interface NodestoreTable {
  id: string;
  data: Buffer;
  timestamp: number;
}

export interface GroupTagValueTable {
  project_id: number;
  group_id: number;
  key: string;
  value: string;
  times_seen: number;
  first_seen: number;
  last_seen: number;
}

export interface TsdbPointTable {
  model: string;
  key_id: number;
  rollup: number;
  bucket: number;
  count: number;
}

export interface ReleaseTable {
  id: Generated<number>;
  organization_id: number;
  version: string;
  date_created: number;
  date_released: number | null;
}

export interface ReleaseProjectTable {
  release_id: number;
  project_id: number;
  new_groups: number;
}

/** Counted items that do not become events: sessions, client reports, transactions, drops. */
export interface OutcomeTable {
  project_id: number;
  /** Hour bucket, Unix ms. */
  bucket: number;
  category: string;
  /** accepted | filtered | rate_limited | invalid | client_discard */
  outcome: string;
  reason: string;
  quantity: number;
}

/** A logged-in browser session (web UI). Only the token's sha256 is stored. */
export interface UserSessionTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  date_created: number;
  last_seen: number;
  expires: number;
  ip_address: string | null;
  user_agent: string | null;
}

/** One failed login, keyed `email:<address>` or `ip:<address>`, for the login rate limit. */
export interface LoginAttemptTable {
  id: Generated<number>;
  key: string;
  timestamp: number;
}

/** A lease on a scheduled job: whoever holds an unexpired row runs it. */
export interface SchedulerLockTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface Database {
  organizations: OrganizationTable;
  users: UserTable;
  organization_members: OrganizationMemberTable;
  projects: ProjectTable;
  project_keys: ProjectKeyTable;
  api_tokens: ApiTokenTable;
  groups: GroupTable;
  group_hashes: GroupHashTable;
  events: EventTable;
  nodestore_node: NodestoreTable;
  group_tag_values: GroupTagValueTable;
  tsdb_points: TsdbPointTable;
  releases: ReleaseTable;
  release_projects: ReleaseProjectTable;
  outcomes: OutcomeTable;
  scheduler_locks: SchedulerLockTable;
  user_sessions: UserSessionTable;
  login_attempts: LoginAttemptTable;
}

export type Group = Selectable<GroupTable>;
export type Project = Selectable<ProjectTable>;
export type ProjectKey = Selectable<ProjectKeyTable>;
export type Organization = Selectable<OrganizationTable>;
export type UserSession = Selectable<UserSessionTable>;
export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;
