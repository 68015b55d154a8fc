/**
 * EventDetailed in Sentry's API shape (protocol.md §8.3): camelCase top level, interfaces as
 * `entries: [{type, data}]`, camelCase frames, and source context as `[[lineNo, text], ...]`.
 * Input is the stored (normalized) event body; nothing here trusts its contents to be HTML-safe.
 */
import type { EventRow } from '../../db/index.js';
import type { Frame, NormalizedEvent, Stacktrace } from '../../protocol/index.js';
import { iso } from './issue.js';

function frame(f: Frame) {
  const context: [number, string][] = [];
  const line = typeof f.lineno === 'number' ? f.lineno : null;
  if (line !== null && typeof f.context_line === 'string') {
    const pre = f.pre_context ?? [];
    pre.forEach((text, i) => context.push([line - pre.length + i, text]));
    context.push([line, f.context_line]);
    (f.post_context ?? []).forEach((text, i) => context.push([line + 1 + i, text]));
  }
  return {
    filename: f.filename ?? null,
    absPath: f.abs_path ?? null,
    module: f.module ?? null,
    package: f.package ?? null,
    platform: f.platform ?? null,
    function: f.function ?? null,
    rawFunction: f.raw_function ?? null,
    lineNo: line,
    colNo: typeof f.colno === 'number' ? f.colno : null,
    inApp: f.in_app === true,
    context,
    vars: f.vars ?? null,
    instructionAddr: f.instruction_addr ?? null,
    symbolAddr: f.symbol_addr ?? null,
    trust: null,
    errors: null,
    data: f.data ?? {},
  };
}

function stacktrace(st: Stacktrace | null | undefined) {
  if (!st || !Array.isArray(st.frames)) return null;
  return { frames: st.frames.map(frame), framesOmitted: null, registers: st.registers ?? null, hasSystemFrames: st.frames.some((f) => f.in_app !== true) };
}

function pairsToObject(pairs: unknown): Record<string, string> | unknown {
  return Array.isArray(pairs) ? pairs : pairs;
}

export function buildEntries(e: NormalizedEvent) {
  const entries: { type: string; data: unknown }[] = [];
  if (e.exception?.values?.length) {
    entries.push({
      type: 'exception',
      data: {
        values: e.exception.values.map((v) => ({
          type: v.type ?? null,
          value: v.value ?? null,
          module: v.module ?? null,
          threadId: v.thread_id ?? null,
          mechanism: v.mechanism ?? null,
          stacktrace: stacktrace(v.stacktrace),
          rawStacktrace: stacktrace(v.raw_stacktrace),
        })),
        excOmitted: null,
        hasSystemFrames: e.exception.values.some((v) => (v.stacktrace?.frames ?? []).some((f) => f.in_app !== true)),
      },
    });
  }
  if (e.threads?.values?.length) {
    entries.push({
      type: 'threads',
      data: {
        values: e.threads.values.map((t) => ({
          id: t.id ?? null,
          name: t.name ?? null,
          crashed: t.crashed ?? false,
          current: t.current ?? false,
          stacktrace: stacktrace(t.stacktrace),
        })),
      },
    });
  }
  if (e.logentry?.formatted || e.logentry?.message) {
    entries.push({ type: 'message', data: { formatted: e.logentry.formatted ?? e.logentry.message, message: e.logentry.message ?? null, params: e.logentry.params ?? null } });
  }
  if (e.breadcrumbs?.values?.length) {
    entries.push({
      type: 'breadcrumbs',
      data: {
        values: e.breadcrumbs.values.map((b) => ({
          type: b.type ?? 'default',
          category: b.category ?? null,
          level: b.level ?? 'info',
          message: b.message ?? null,
          data: b.data ?? null,
          timestamp: typeof b.timestamp === 'number' ? new Date(b.timestamp * 1000).toISOString() : null,
          event_id: null,
        })),
      },
    });
  }
  if (e.request) {
    const r = e.request;
    entries.push({
      type: 'request',
      data: {
        url: r.url ?? null,
        method: r.method ?? null,
        query: pairsToObject(r.query_string) ?? [],
        data: r.data ?? null,
        headers: r.headers ?? [],
        cookies: r.cookies ?? [],
        env: r.env ?? null,
        fragment: (r as Record<string, unknown>).fragment ?? null,
        inferredContentType: null,
      },
    });
  }
  if (e.debug_meta?.images?.length) entries.push({ type: 'debugmeta', data: { images: e.debug_meta.images } });
  return entries;
}

export function serializeEvent(row: EventRow, body: NormalizedEvent | null, nav?: { previous: string | null; next: string | null }) {
  const e = body ?? ({ tags: [], errors: [] } as unknown as NormalizedEvent);
  const user = e.user
    ? {
        id: e.user.id ?? null,
        email: e.user.email ?? null,
        username: e.user.username ?? null,
        ip_address: e.user.ip_address ?? null,
        name: e.user.name ?? null,
        geo: e.user.geo ?? null,
        data: e.user.data ?? null,
      }
    : null;
  return {
    id: row.event_id,
    eventID: row.event_id,
    groupID: row.group_id === null ? null : String(row.group_id),
    projectID: String(row.project_id),
    title: row.title,
    message: row.message,
    culprit: e.culprit ?? null,
    location: (e.location as string | undefined) ?? null,
    platform: row.platform,
    type: row.type,
    dateCreated: iso(row.timestamp),
    dateReceived: iso(row.received),
    size: row.size,
    dist: e.dist ?? null,
    release: e.release ? { version: e.release } : null,
    environment: e.environment ?? null,
    sdk: e.sdk ?? null,
    contexts: e.contexts ?? {},
    context: e.extra ?? {},
    tags: (e.tags ?? []).map(([key, value]) => ({ key, value })),
    user,
    fingerprints: (e.hashes as string[] | undefined) ?? [],
    metadata: e.metadata ?? {},
    errors: e.errors ?? [],
    packages: e.modules ?? {},
    entries: buildEntries(e),
    _meta: (e._meta as Record<string, unknown> | undefined) ?? {},
    crashFile: null,
    previousEventID: nav?.previous ?? null,
    nextEventID: nav?.next ?? null,
  };
}
