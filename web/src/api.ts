/**
 * The one way the UI talks to the server: fetch against /api/0/ with the session cookie, the
 * CSRF header on every mutating request, Sentry's `{"detail": …}` errors turned into ApiError, and
 * the `Link` header's cursors parsed for pagination. Nothing here renders anything.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly body: unknown,
    readonly retryAfter: number | null = null,
  ) {
    super(detail);
  }
}

export interface Page<T> {
  data: T;
  /** Cursors from the Link header, null when that side has no results. */
  next: string | null;
  previous: string | null;
}

function cookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** Parses `<url>; rel="next"; results="true"; cursor="0:25:0", …` (Sentry's pagination). */
export function parseLink(header: string | null): { next: string | null; previous: string | null } {
  const out = { next: null as string | null, previous: null as string | null };
  if (!header) return out;
  for (const part of header.split(/,\s*(?=<)/)) {
    const rel = /rel="(\w+)"/.exec(part)?.[1];
    const results = /results="(\w+)"/.exec(part)?.[1];
    const cursor = /cursor="([^"]+)"/.exec(part)?.[1] ?? null;
    if (results !== 'true') continue;
    if (rel === 'next') out.next = cursor;
    if (rel === 'previous') out.previous = cursor;
  }
  return out;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<Page<T>> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    const token = cookie('faultline_csrf');
    if (token) headers['X-CSRFToken'] = token;
  }
  const res = await fetch(`/api/0${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  if (!res.ok) {
    const raw = json && typeof json === 'object' ? (json as { detail?: unknown }).detail : undefined;
    const detail = raw ? String(raw) : `${res.status} ${res.statusText}`;
    const retry = res.headers.get('Retry-After');
    throw new ApiError(res.status, detail, json, retry ? Number(retry) : null);
  }
  return { data: json as T, ...parseLink(res.headers.get('Link')) };
}

export const api = {
  get: async <T>(path: string) => (await request<T>('GET', path)).data,
  page: <T>(path: string) => request<T>('GET', path),
  post: async <T>(path: string, body?: unknown) => (await request<T>('POST', path, body ?? {})).data,
  put: async <T>(path: string, body?: unknown) => (await request<T>('PUT', path, body ?? {})).data,
  del: async (path: string) => {
    await request<unknown>('DELETE', path);
  },
};

/** Builds `path?k=v&…`, skipping null/undefined (not ''), repeating array values (`id=1&id=2`). */
export function withQuery(path: string, params: Record<string, string | number | null | undefined | (string | number)[]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}
