/** An issue's events, newest first, paged by cursor (`GET /api/0/issues/{id}/events/`). */
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, withQuery } from '../api';
import { dateTime } from '../format';
import type { EventSummary } from '../types';

export function EventsTable({ issueId, org }: { issueId: string; org: string }) {
  const [cursor, setCursor] = useState<string | undefined>();
  const events = useQuery({
    queryKey: ['issue-events', issueId, cursor],
    queryFn: () => api.page<EventSummary[]>(withQuery(`/issues/${issueId}/events/`, { cursor, limit: 25 })),
    placeholderData: keepPreviousData,
  });
  if (events.isPending) return <p aria-busy="true">Loading events…</p>;
  if (events.error) return <p className="form-error">{events.error.message}</p>;
  const tag = (e: EventSummary, key: string) => e.tags.find((t) => t.key === key)?.value ?? '';
  return (
    <section className="card">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Time</th>
            <th scope="col">Release</th>
            <th scope="col">Environment</th>
            <th scope="col">User</th>
          </tr>
        </thead>
        <tbody>
          {events.data.data.map((e) => (
            <tr key={e.id}>
              <td>
                <Link href={`/organizations/${org}/issues/${issueId}/events/${e.id}/`} className="mono">
                  {e.id.slice(0, 12)}
                </Link>
                <div className="muted small clip">{e.message || e.title}</div>
              </td>
              <td className="nowrap">{dateTime(e.dateCreated)}</td>
              <td className="mono">{tag(e, 'release')}</td>
              <td>{tag(e, 'environment')}</td>
              <td>{e.user?.email ?? e.user?.username ?? e.user?.id ?? e.user?.ip_address ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav className="pager" aria-label="Event pages">
        <button type="button" disabled={!events.data.previous || !cursor} onClick={() => setCursor(events.data.previous ?? undefined)}>
          ← Newer
        </button>
        <button type="button" disabled={!events.data.next} onClick={() => setCursor(events.data.next ?? undefined)}>
          Older →
        </button>
      </nav>
    </section>
  );
}
