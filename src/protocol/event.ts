/**
 * The normalized event: the shape every event has after `normalizeEvent`, whatever the SDK sent.
 *
 * It follows Sentry's stored event (what Relay writes after normalization): snake_case keys,
 * interfaces in their canonical `{values: [...]}` form, tags as `[key, value]` pairs, times as
 * Unix seconds (float). Grouping, the pipeline, the nodestore and the web API all read this shape.
 * Fields the SDK sent that are not listed here are kept as they came (`[key: string]: unknown`).
 */

export type Level = 'fatal' | 'error' | 'warning' | 'info' | 'debug';

export interface Frame {
  filename?: string | null;
  abs_path?: string | null;
  function?: string | null;
  raw_function?: string | null;
  module?: string | null;
  package?: string | null;
  platform?: string | null;
  lineno?: number | null;
  colno?: number | null;
  context_line?: string | null;
  pre_context?: string[];
  post_context?: string[];
  in_app?: boolean | null;
  vars?: Record<string, unknown>;
  instruction_addr?: string | null;
  symbol_addr?: string | null;
  image_addr?: string | null;
  addr_mode?: string | null;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Stacktrace {
  frames: Frame[];
  registers?: Record<string, string>;
  [key: string]: unknown;
}

export interface Mechanism {
  type: string;
  handled?: boolean;
  synthetic?: boolean;
  description?: string;
  help_link?: string;
  exception_id?: number;
  parent_id?: number;
  source?: string;
  is_exception_group?: boolean;
  meta?: Record<string, unknown>;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ExceptionValue {
  type?: string | null;
  value?: string | null;
  module?: string | null;
  thread_id?: string | number | null;
  mechanism?: Mechanism | null;
  stacktrace?: Stacktrace | null;
  raw_stacktrace?: Stacktrace | null;
  [key: string]: unknown;
}

export interface Thread {
  id?: string | number | null;
  name?: string | null;
  crashed?: boolean;
  current?: boolean;
  main?: boolean;
  stacktrace?: Stacktrace | null;
  [key: string]: unknown;
}

export interface Breadcrumb {
  timestamp?: number;
  type?: string;
  category?: string | null;
  message?: string | null;
  level?: Level;
  data?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface User {
  id?: string | null;
  email?: string | null;
  ip_address?: string | null;
  username?: string | null;
  name?: string | null;
  geo?: Record<string, unknown>;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Request {
  url?: string | null;
  method?: string | null;
  query_string?: [string, string][] | string | null;
  data?: unknown;
  cookies?: [string, string][] | null;
  headers?: [string, string][] | null;
  env?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface LogEntry {
  formatted?: string | null;
  message?: string | null;
  params?: unknown[] | null;
  [key: string]: unknown;
}

/** A processing error recorded on the event (Sentry's `event.errors[]`). */
export interface EventError {
  type: string;
  name?: string;
  value?: unknown;
  [key: string]: unknown;
}

export interface NormalizedEvent {
  event_id: string;
  /** Unix seconds (float). */
  timestamp: number;
  /** Unix seconds (float) when the server received the event. */
  received: number;
  type: 'error' | 'default' | 'transaction' | 'csp' | 'feedback' | string;
  platform: string;
  level: Level;
  logger?: string | null;
  transaction?: string | null;
  server_name?: string | null;
  release?: string | null;
  dist?: string | null;
  environment?: string | null;
  logentry?: LogEntry | null;
  tags: [string, string][];
  extra?: Record<string, unknown>;
  fingerprint?: string[] | null;
  checksum?: string | null;
  modules?: Record<string, string>;
  contexts?: Record<string, Record<string, unknown>>;
  sdk?: { name?: string; version?: string; [key: string]: unknown } | null;
  user?: User | null;
  request?: Request | null;
  exception?: { values: ExceptionValue[]; [key: string]: unknown } | null;
  threads?: { values: Thread[] } | null;
  breadcrumbs?: { values: Breadcrumb[] } | null;
  debug_meta?: { images?: Record<string, unknown>[]; [key: string]: unknown } | null;
  errors: EventError[];
  /** Filled in by grouping: what the UI and API show as the title and location. */
  title?: string;
  culprit?: string | null;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}
