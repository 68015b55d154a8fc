/**
 * One issue: title, culprit, status actions, counts and first/last seen (with releases), the 24h /
 * 14d chart, tag breakdowns, and one event at a time (latest, oldest, older, newer) with its stack
 * trace, breadcrumbs, request, user, contexts and extra data; or the list of its events.
 * `eventId` null shows the events list; "latest"/"oldest" or an id shows that event.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api } from '../api';
import { BarChart } from '../components/charts';
import {
  BreadcrumbsSection,
  ContextsSection,
  ExtraSection,
  MessageSection,
  RequestSection,
  TagsSection,
  UserSection,
} from '../components/event-entries';
import { EventsTable } from '../components/events-table';
import { ExceptionSection } from '../components/stacktrace';
import { TagBreakdownPanel } from '../components/tag-breakdown';
import { compact, dateTime, timeAgo } from '../format';
import type { Breadcrumb, EventDetails, ExceptionValue, Issue, RequestData } from '../types';

function entry<T>(event: EventDetails, type: string): T | undefined {
  return event.entries.find((e) => e.type === type)?.data as T | undefined;
}

function StatusActions({ issue }: { issue: Issue }) {
  const queryClient = useQueryClient();
  const set = useMutation({
    mutationFn: (status: string) => api.put<Issue>(`/issues/${issue.id}/`, { status }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['issue', issue.id] });
      void queryClient.invalidateQueries({ queryKey: ['issues'] });
    },
  });
  const inNextRelease = issue.status === 'resolved' && issue.statusDetails?.inNextRelease === true;
  return (
    <div className="actions" role="group" aria-label="Issue status">
      <span className={`badge status-${issue.status}`} aria-live="polite">
        {inNextRelease ? 'resolved in next release' : issue.status}
      </span>
      {issue.status === 'unresolved' ? (
        <>
          <button type="button" className="primary" disabled={set.isPending} onClick={() => set.mutate('resolved')}>
            Resolve
          </button>
          <button type="button" disabled={set.isPending} onClick={() => set.mutate('resolvedInNextRelease')}>
            Resolve in next release
          </button>
          <button type="button" disabled={set.isPending} onClick={() => set.mutate('ignored')}>
            Ignore
          </button>
        </>
      ) : (
        <button type="button" disabled={set.isPending} onClick={() => set.mutate('unresolved')}>
          Unresolve
        </button>
      )}
      {set.error && <span className="form-error">{set.error.message}</span>}
    </div>
  );
}

function Sidebar({ issue, org }: { issue: Issue; org: string }) {
  const [period, setPeriod] = useState<'24h' | '14d'>('24h');
  return (
    <aside className="sidebar">
      <section className="card">
        <div className="counts">
          <div>
            <div className="muted small">Events</div>
            <div className="big">{compact(issue.count)}</div>
          </div>
          <div>
            <div className="muted small">Users</div>
            <div className="big">{compact(issue.userCount)}</div>
          </div>
        </div>
        <div className="segmented" role="group" aria-label="Chart period">
          {(['24h', '14d'] as const).map((p) => (
            <button key={p} type="button" aria-pressed={period === p} onClick={() => setPeriod(p)}>
              {p === '24h' ? 'Last 24 hours' : 'Last 14 days'}
            </button>
          ))}
        </div>
        <BarChart series={issue.stats?.[period]} period={period} />
        <dl className="kv seen">
          <dt>First seen</dt>
          <dd>
            <span title={dateTime(issue.firstSeen)}>{timeAgo(issue.firstSeen)}</span>
            {issue.firstRelease && <span className="mono small"> in {issue.firstRelease.version}</span>}
          </dd>
          <dt>Last seen</dt>
          <dd>
            <span title={dateTime(issue.lastSeen)}>{timeAgo(issue.lastSeen)}</span>
            {issue.lastRelease && <span className="mono small"> in {issue.lastRelease.version}</span>}
          </dd>
        </dl>
      </section>
      <section className="card">
        <h2>Tags</h2>
        <TagBreakdownPanel issueId={issue.id} org={org} projectId={issue.project.id} />
      </section>
    </aside>
  );
}

function EventView({ issue, org, eventId }: { issue: Issue; org: string; eventId: string }) {
  const event = useQuery({
    queryKey: ['event', issue.id, eventId],
    queryFn: () => api.get<EventDetails>(`/issues/${issue.id}/events/${eventId}/`),
  });
  if (event.isPending) return <p aria-busy="true">Loading event…</p>;
  if (event.error) return <p className="form-error">{event.error.message}</p>;
  const e = event.data;
  const base = `/organizations/${org}/issues/${issue.id}/events/`;
  const exception = entry<{ values: ExceptionValue[] }>(e, 'exception');
  const message = entry<{ formatted: string | null }>(e, 'message');
  const crumbs = entry<{ values: Breadcrumb[] }>(e, 'breadcrumbs');
  const request = entry<RequestData>(e, 'request');
  return (
    <div className="event">
      <nav className="event-nav card" aria-label="Events of this issue">
        <div>
          <span className="muted small">Event </span>
          <span className="mono">{e.eventID}</span>
          <span className="muted small"> · {dateTime(e.dateCreated)}</span>
          {e.release && <span className="muted small"> · release <span className="mono">{e.release.version}</span></span>}
          {e.environment && <span className="muted small"> · {e.environment}</span>}
        </div>
        <div className="actions">
          <Link href={`${base}oldest/`} className="button" aria-disabled={!e.previousEventID}>
            Oldest
          </Link>
          {e.previousEventID ? (
            <Link href={`${base}${e.previousEventID}/`} className="button">
              ← Older
            </Link>
          ) : (
            <span className="button disabled">← Older</span>
          )}
          {e.nextEventID ? (
            <Link href={`${base}${e.nextEventID}/`} className="button">
              Newer →
            </Link>
          ) : (
            <span className="button disabled">Newer →</span>
          )}
          <Link href={`${base}latest/`} className="button" aria-disabled={!e.nextEventID}>
            Latest
          </Link>
          <a className="button" href={`/api/0/projects/${org}/${issue.project.slug}/events/${e.eventID}/`} target="_blank" rel="noopener noreferrer">
            JSON
          </a>
        </div>
      </nav>
      {exception && exception.values.length > 0 && <ExceptionSection key={e.eventID} values={exception.values} />}
      {message?.formatted && (!exception || message.formatted !== exception.values[0]?.value) && <MessageSection text={message.formatted} />}
      {crumbs && crumbs.values.length > 0 && <BreadcrumbsSection crumbs={crumbs.values} />}
      {request && <RequestSection req={request} />}
      <TagsSection tags={e.tags} org={org} projectId={issue.project.id} />
      {e.user && <UserSection user={e.user} />}
      <ContextsSection contexts={e.contexts} />
      <ExtraSection extra={e.context} />
      {e.sdk?.name && (
        <p className="muted small">
          Sent by {e.sdk.name} {e.sdk.version}
        </p>
      )}
    </div>
  );
}

export function IssueDetailsPage({ org, issueId, eventId }: { org: string; issueId: string; eventId: string | null }) {
  const issue = useQuery({ queryKey: ['issue', issueId], queryFn: () => api.get<Issue>(`/issues/${issueId}/`) });
  if (issue.isPending) return <p className="page" aria-busy="true">Loading issue…</p>;
  if (issue.error) return <div className="page empty form-error">{issue.error.message}</div>;
  const i = issue.data;
  const base = `/organizations/${org}/issues/${i.id}/`;
  return (
    <div className="page wide">
      <p className="trail">
        <Link href={`/organizations/${org}/issues/?project=${i.project.id}`}>{i.project.name}</Link> / <span className="mono">{i.shortId}</span>
      </p>
      <header className="issue-header">
        <h1>
          <span className={`level level-${i.level}`} title={`level: ${i.level}`} /> {i.title}
        </h1>
        {i.culprit && <p className="culprit mono">{i.culprit}</p>}
        <StatusActions issue={i} />
      </header>
      <div className="tabs" role="navigation" aria-label="Issue views">
        <Link href={base} className={eventId !== null ? 'tab active' : 'tab'} aria-current={eventId !== null ? 'page' : undefined}>
          Details
        </Link>
        <Link href={`${base}events/`} className={eventId === null ? 'tab active' : 'tab'} aria-current={eventId === null ? 'page' : undefined}>
          Events ({compact(i.count)})
        </Link>
      </div>
      <div className="issue-layout">
        <div className="issue-main">{eventId === null ? <EventsTable issueId={i.id} org={org} /> : <EventView issue={i} org={org} eventId={eventId} />}</div>
        <Sidebar issue={i} org={org} />
      </div>
    </div>
  );
}
