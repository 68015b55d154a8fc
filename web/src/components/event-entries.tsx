/**
 * The parts of an event besides the stack trace: message, breadcrumbs, request, user, contexts
 * (browser, OS, runtime, …), tags and extra data. All of it is hostile input: it is shown as React
 * text (escaped), request URLs are not made into links, and nothing uses dangerouslySetInnerHTML.
 */
import { useState } from 'react';
import { Link } from 'wouter';
import { clock, show } from '../format';
import type { Breadcrumb, EventDetails, EventUser, RequestData } from '../types';

type Row = [string, unknown];

export function KeyValueTable({ rows, label }: { rows: Row[]; label?: string }) {
  const shown = rows.filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (!shown.length) return <p className="muted small">Nothing recorded.</p>;
  return (
    <table className="kv-table" aria-label={label}>
      <tbody>
        {shown.map(([k, v], i) => (
          <tr key={`${k}-${i}`}>
            <th scope="row">{k}</th>
            <td>{typeof v === 'object' ? <pre>{show(v)}</pre> : <span className="value">{String(v)}</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Headers, cookies and query strings arrive as pairs, objects or a raw string. */
function rowsOf(v: unknown): Row[] {
  if (Array.isArray(v)) return v.filter((p) => Array.isArray(p)).map((p) => [String(p[0]), p[1]]);
  if (v && typeof v === 'object') return Object.entries(v as Record<string, unknown>);
  if (typeof v === 'string' && v) return [['', v]];
  return [];
}

export function MessageSection({ text }: { text: string }) {
  return (
    <section className="card entry" aria-labelledby="message-title">
      <h2 id="message-title">Message</h2>
      <pre className="message">{text}</pre>
    </section>
  );
}

export function BreadcrumbsSection({ crumbs }: { crumbs: Breadcrumb[] }) {
  const [all, setAll] = useState(false);
  const LIMIT = 20;
  // Newest last, as they happened; the last ones lead up to the error, so show those first.
  const visible = all ? crumbs : crumbs.slice(-LIMIT);
  return (
    <section className="card entry" aria-labelledby="breadcrumbs-title">
      <h2 id="breadcrumbs-title">Breadcrumbs</h2>
      {!all && crumbs.length > LIMIT && (
        <button type="button" className="link-button" onClick={() => setAll(true)}>
          Show {crumbs.length - LIMIT} earlier breadcrumbs
        </button>
      )}
      <table className="table crumbs">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Category</th>
            <th scope="col">Level</th>
            <th scope="col">Message / data</th>
          </tr>
        </thead>
        <tbody>
          {visible.map((b, i) => (
            <tr key={i} className={`crumb crumb-${b.level}`}>
              <td className="mono nowrap">{clock(b.timestamp)}</td>
              <td className="mono">{b.category ?? b.type}</td>
              <td>{b.level}</td>
              <td>
                {b.message && <div className="crumb-message">{b.message}</div>}
                {b.data && Object.keys(b.data).length > 0 && <pre className="crumb-data">{show(b.data)}</pre>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function RequestSection({ req }: { req: RequestData }) {
  return (
    <section className="card entry" aria-labelledby="request-title">
      <h2 id="request-title">Request</h2>
      <p className="mono request-line">
        <strong>{req.method ?? 'GET'}</strong> {req.url}
      </p>
      {rowsOf(req.query).length > 0 && (
        <>
          <h3>Query</h3>
          <KeyValueTable rows={rowsOf(req.query)} label="Query string" />
        </>
      )}
      {req.data !== null && req.data !== undefined && (
        <>
          <h3>Body</h3>
          <pre>{show(req.data)}</pre>
        </>
      )}
      {rowsOf(req.headers).length > 0 && (
        <>
          <h3>Headers</h3>
          <KeyValueTable rows={rowsOf(req.headers)} label="Headers" />
        </>
      )}
      {rowsOf(req.cookies).length > 0 && (
        <>
          <h3>Cookies</h3>
          <KeyValueTable rows={rowsOf(req.cookies)} label="Cookies" />
        </>
      )}
      {req.env && Object.keys(req.env).length > 0 && (
        <>
          <h3>Environment</h3>
          <KeyValueTable rows={Object.entries(req.env)} label="Environment" />
        </>
      )}
    </section>
  );
}

export function UserSection({ user }: { user: EventUser }) {
  return (
    <section className="card entry" aria-labelledby="user-title">
      <h2 id="user-title">User</h2>
      <KeyValueTable
        label="User"
        rows={[
          ['ID', user.id],
          ['Email', user.email],
          ['Username', user.username],
          ['IP address', user.ip_address],
          ['Name', user.name],
          ['Geography', user.geo],
          ...Object.entries(user.data ?? {}),
        ]}
      />
    </section>
  );
}

const CONTEXT_TITLES: Record<string, string> = { browser: 'Browser', os: 'Operating system', runtime: 'Runtime', device: 'Device', app: 'App', trace: 'Trace', culture: 'Culture', cloud_resource: 'Cloud resource' };

export function ContextsSection({ contexts }: { contexts: EventDetails['contexts'] }) {
  const entries = Object.entries(contexts).filter(([, v]) => v && typeof v === 'object');
  if (!entries.length) return null;
  return (
    <section className="card entry" aria-labelledby="contexts-title">
      <h2 id="contexts-title">Contexts</h2>
      <div className="contexts">
        {entries.map(([key, value]) => (
          <div key={key} className="context-card">
            <h3>{CONTEXT_TITLES[key] ?? key}</h3>
            <KeyValueTable rows={Object.entries(value).filter(([k]) => k !== 'type')} label={key} />
          </div>
        ))}
      </div>
    </section>
  );
}

export function TagsSection({ tags, org, projectId }: { tags: EventDetails['tags']; org: string; projectId: string }) {
  if (!tags.length) return null;
  const search = (k: string, v: string) =>
    `/organizations/${org}/issues/?project=${encodeURIComponent(projectId)}&query=${encodeURIComponent(`${k}:"${v.replace(/"/g, '\\"')}"`)}`;
  return (
    <section className="card entry" aria-labelledby="tags-title">
      <h2 id="tags-title">Tags</h2>
      <ul className="tags">
        {tags.map(({ key, value }) => (
          <li key={`${key}=${value}`}>
            <Link href={search(key, value)} className="tag" title={`Search issues with ${key}:${value}`}>
              <span className="tag-key">{key}</span>
              <span className="tag-value">{value}</span>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ExtraSection({ extra }: { extra: Record<string, unknown> }) {
  if (!Object.keys(extra).length) return null;
  return (
    <section className="card entry" aria-labelledby="extra-title">
      <h2 id="extra-title">Additional data</h2>
      <KeyValueTable rows={Object.entries(extra)} label="Additional data" />
    </section>
  );
}
