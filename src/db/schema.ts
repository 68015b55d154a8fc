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
  /** Days events are kept; null means the server default (FAULTLINE_RETENTION_DAYS). */
  retention_days: number | null;
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
  /** Project stack trace rules text (Sentry's `groupingEnhancements`); null when never set. */
  grouping_enhancements: string | null;
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
  /** Rate limit: at most `rate_limit_count` events per `rate_limit_window` seconds (both null: none). */
  rate_limit_count: number | null;
  rate_limit_window: number | null;
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
  /** Post-processing the event was saved for (save.ts POST_PROCESS_* flags); NULL for none. */
  post_process: number | null;
}

/** SQLite only: events by their SDK event id, filled in bulk (db/event-ids.ts). */
export interface EventIdTable {
  project_id: number;
  event_id: string;
  /** `events.id` */
  event: number;
}

/** SQLite only: one row, the newest `events.id` in `event_ids`. */
export interface EventIdsMergedTable {
  upto: number;
}

export interface NodestoreTable {
  id: string;
  data: Buffer;
  timestamp: number;
}

/** A Zstandard dictionary event bodies are compressed with (nodestore codec format 3). */
export interface NodestoreDictionaryTable {
  /** 48-bit hash of the project and the content; bodies name their dictionary by it. */
  id: number;
  project_id: number;
  created: number;
  data: Buffer;
}

export interface BodyStackTable {
  /** SHA-256 (base64url) of the project and the stack's text; bodies of format 4 name it (raw). */
  id: string;
  project_id: number;
  /** The latest event time (Unix ms) of a body that refers to it, kept to within a day. */
  last_used: number;
  /** The stack's text (the JSON of its frames), Zstandard-compressed. */
  data: Buffer;
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
  /** Added by 0004: what sentry-cli sets (`releases new --url`, finalize, archive, set-commits). */
  date_started: number | null;
  url: string | null;
  ref: string | null;
  /** open | archived (null: open) */
  status: string | null;
  /** JSON: the refs / commits sentry-cli sent, kept as they came. */
  commits: string | null;
  commit_count: number | null;
  last_commit_id: string | null;
}

export interface DeployTable {
  id: Generated<number>;
  organization_id: number;
  release_id: number;
  environment: string;
  name: string | null;
  url: string | null;
  date_started: number | null;
  date_finished: number;
}

/** Sessions per project, release, environment and hour bucket (release health). */
export interface ReleaseSessionTable {
  project_id: number;
  release: string;
  environment: string;
  bucket: number;
  sessions: number;
  errored: number;
  abnormal: number;
  crashed: number;
}

/** Distinct session users (sha1 of `did`) per release; crashed = 1 once one of theirs crashed. */
export interface ReleaseSessionUserTable {
  project_id: number;
  release: string;
  did_hash: string;
  crashed: number;
  last_seen: number;
}

/** Content-addressed bytes (chunks and artifact files), deflated. */
export interface FileBlobTable {
  sha1: string;
  /** chunk | file */
  kind: string;
  size: number;
  data: Buffer;
  date_created: number;
}

export interface ArtifactBundleTable {
  id: Generated<number>;
  organization_id: number;
  checksum: string;
  bundle_id: string | null;
  release: string | null;
  dist: string | null;
  /** created | assembling | ok | error */
  state: string;
  detail: string | null;
  file_count: number;
  date_created: number;
}

export interface ArtifactFileTable {
  id: Generated<number>;
  organization_id: number;
  project_id: number | null;
  bundle_id: number | null;
  debug_id: string | null;
  release: string;
  dist: string;
  url: string;
  url_hash: string;
  /** source | minified_source | source_map | indexed_ram_bundle | release_file */
  type: string;
  sha1: string;
  size: number;
  headers: string;
  date_created: number;
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

/** Triage state (migration 0007): Sentry's GroupAssignee, GroupBookmark, GroupResolution, GroupSnooze, ... */
export interface TeamTable {
  id: Generated<number>;
  organization_id: number;
  slug: string;
  name: string;
  date_created: number;
}

export interface TeamMemberTable {
  team_id: number;
  user_id: number;
}

/** A team's ownership of a project. */
export interface ProjectTeamTable {
  project_id: number;
  team_id: number;
}

export interface GroupAssigneeTable {
  group_id: number;
  user_id: number | null;
  team_id: number | null;
  date_added: number;
}

export interface GroupUserFlagTable {
  group_id: number;
  user_id: number;
  is_active: number;
  date_added: number;
}

export interface GroupResolutionTable {
  group_id: number;
  /** in_release | in_next_release */
  type: string;
  /** in_release: the version; in_next_release: the latest release when it was resolved (or null). */
  release: string | null;
  date_added: number;
}

export interface GroupSnoozeTable {
  group_id: number;
  until: number | null;
  count: number | null;
  /** Minutes. */
  window: number | null;
  user_count: number | null;
  user_window: number | null;
  date_added: number;
}

export interface GroupTombstoneTable {
  id: Generated<number>;
  project_id: number;
  hash: string;
  title: string;
  date_added: number;
}

export interface ActivityTable {
  id: Generated<number>;
  project_id: number;
  group_id: number;
  type: string;
  user_id: number | null;
  /** JSON object. */
  data: string;
  date_added: number;
}

export interface AlertRuleTable {
  id: Generated<number>;
  project_id: number;
  label: string;
  environment: string | null;
  /** JSON: conditions, filters, actions, actionMatch, filterMatch, frequency. */
  data: string;
  created_by: number | null;
  date_added: number;
}

export interface RuleGroupStatusTable {
  rule_id: number;
  group_id: number;
  last_active: number;
}

export interface RuleFireTable {
  id: Generated<number>;
  rule_id: number;
  group_id: number;
  event_id: string;
  digest: number;
  date_added: number;
}

/** One backend's part of one delegated call (src/services/delegator). */
export interface DelegatorCallTable {
  id: Generated<number>;
  call_id: string;
  service: string;
  method: string;
  backend: string;
  role: string;
  latency_ms: number;
  error: string | null;
  similarity: number | null;
  sampled_at: number;
  organization_id: number | null;
  project_id: number | null;
}

/** Run-time delegator settings per service; null columns fall back to configuration. */
export interface DelegatorSettingsTable {
  service: string;
  primary_backend: string | null;
  /** JSON array of backend names. */
  secondaries: string | null;
  sample_rate: number | null;
  /** JSON arrays of ids. */
  organizations: string | null;
  projects: string | null;
  updated_at: number;
}

/** Where a `faultline nodestore migrate` run resumes. */
export interface NodestoreMigrationCheckpointTable {
  name: string;
  after_key: string | null;
  copied: number;
  done: number;
  updated_at: number;
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
  event_ids: EventIdTable;
  event_ids_merged: EventIdsMergedTable;
  nodestore_node: NodestoreTable;
  nodestore_dictionaries: NodestoreDictionaryTable;
  body_stacks: BodyStackTable;
  group_tag_values: GroupTagValueTable;
  tsdb_points: TsdbPointTable;
  releases: ReleaseTable;
  release_projects: ReleaseProjectTable;
  deploys: DeployTable;
  release_sessions: ReleaseSessionTable;
  release_session_users: ReleaseSessionUserTable;
  file_blobs: FileBlobTable;
  artifact_bundles: ArtifactBundleTable;
  artifact_files: ArtifactFileTable;
  outcomes: OutcomeTable;
  scheduler_locks: SchedulerLockTable;
  user_sessions: UserSessionTable;
  login_attempts: LoginAttemptTable;
  teams: TeamTable;
  team_members: TeamMemberTable;
  project_teams: ProjectTeamTable;
  group_assignees: GroupAssigneeTable;
  group_bookmarks: GroupUserFlagTable;
  group_subscriptions: GroupUserFlagTable;
  group_resolutions: GroupResolutionTable;
  group_snoozes: GroupSnoozeTable;
  group_tombstones: GroupTombstoneTable;
  activities: ActivityTable;
  alert_rules: AlertRuleTable;
  rule_group_status: RuleGroupStatusTable;
  rule_fires: RuleFireTable;
  delegator_calls: DelegatorCallTable;
  delegator_settings: DelegatorSettingsTable;
  nodestore_migration_checkpoints: NodestoreMigrationCheckpointTable;
}

export type Group = Selectable<GroupTable>;
export type Project = Selectable<ProjectTable>;
export type ProjectKey = Selectable<ProjectKeyTable>;
export type Organization = Selectable<OrganizationTable>;
export type UserSession = Selectable<UserSessionTable>;
export type EventRow = Selectable<EventTable>;
export type AlertRule = Selectable<AlertRuleTable>;
export type Activity = Selectable<ActivityTable>;
export type NewEventRow = Insertable<EventTable>;
export type Release = Selectable<ReleaseTable>;
export type ArtifactFile = Selectable<ArtifactFileTable>;
export type Deploy = Selectable<DeployTable>;
export type Team = Selectable<TeamTable>;
