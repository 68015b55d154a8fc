/** The API shapes the UI reads (a subset of Sentry's; see docs/api.md). */

export interface User {
  id: string;
  email: string;
  name: string;
  isSuperuser: boolean;
}

export interface OrganizationRef {
  id: string;
  slug: string;
  name: string;
  role: string | null;
}

export interface AuthInfo {
  user: User | null;
  organizations: OrganizationRef[];
  csrfToken: string | null;
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  platform: string | null;
  dateCreated: string;
}

export interface ProjectKey {
  id: string;
  name: string;
  isActive: boolean;
  dateCreated: string;
  dsn: { public: string; secret: string };
}

export type Series = [number, number][];

export interface Issue {
  id: string;
  shortId: string;
  title: string;
  culprit: string;
  level: string;
  status: string;
  statusDetails: Record<string, unknown>;
  substatus: string | null;
  platform: string | null;
  project: { id: string; name: string; slug: string; platform: string | null };
  metadata: { type?: string; value?: string; filename?: string; function?: string; title?: string };
  count: string;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  firstRelease: { version: string } | null;
  lastRelease: { version: string } | null;
  stats?: { '24h'?: Series; '14d'?: Series };
  tags?: { key: string; name: string; totalValues: number; uniqueValues: number }[];
}

export interface TagBreakdown {
  key: string;
  name: string;
  totalValues: number;
  uniqueValues: number;
  topValues: { value: string; count: number; lastSeen: string }[];
}

export interface Frame {
  filename: string | null;
  absPath: string | null;
  module: string | null;
  package: string | null;
  function: string | null;
  lineNo: number | null;
  colNo: number | null;
  inApp: boolean;
  context: [number, string][];
  vars: Record<string, unknown> | null;
  instructionAddr: string | null;
}

export interface Stacktrace {
  frames: Frame[];
}

export interface ExceptionValue {
  type: string | null;
  value: string | null;
  module: string | null;
  mechanism: { type?: string; handled?: boolean } | null;
  stacktrace: Stacktrace | null;
  rawStacktrace: Stacktrace | null;
}

export interface Breadcrumb {
  type: string;
  category: string | null;
  level: string;
  message: string | null;
  data: Record<string, unknown> | null;
  timestamp: string | null;
}

export type Pairs = [string, string][];

export interface RequestData {
  url: string | null;
  method: string | null;
  query: Pairs | string | Record<string, unknown> | null;
  data: unknown;
  headers: Pairs | Record<string, string> | null;
  cookies: Pairs | Record<string, string> | string | null;
  env: Record<string, unknown> | null;
}

export type Entry =
  | { type: 'exception'; data: { values: ExceptionValue[] } }
  | { type: 'threads'; data: { values: { id: unknown; name: string | null; crashed: boolean; current: boolean; stacktrace: Stacktrace | null }[] } }
  | { type: 'message'; data: { formatted: string | null; message: string | null } }
  | { type: 'breadcrumbs'; data: { values: Breadcrumb[] } }
  | { type: 'request'; data: RequestData }
  | { type: string; data: unknown };

export interface EventUser {
  id: string | null;
  email: string | null;
  username: string | null;
  ip_address: string | null;
  name: string | null;
  geo: Record<string, unknown> | null;
  data: Record<string, unknown> | null;
}

export interface EventDetails {
  id: string;
  eventID: string;
  groupID: string | null;
  projectID: string;
  title: string;
  message: string;
  culprit: string | null;
  platform: string;
  dateCreated: string;
  dateReceived: string;
  release: { version: string } | null;
  environment: string | null;
  sdk: { name?: string; version?: string } | null;
  contexts: Record<string, Record<string, unknown>>;
  context: Record<string, unknown>;
  tags: { key: string; value: string }[];
  user: EventUser | null;
  entries: Entry[];
  previousEventID: string | null;
  nextEventID: string | null;
}

export interface EventSummary {
  id: string;
  eventID: string;
  title: string;
  message: string;
  dateCreated: string;
  tags: { key: string; value: string }[];
  user: Partial<EventUser> | null;
}
