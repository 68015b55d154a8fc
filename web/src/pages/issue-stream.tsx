/**
 * The issue stream: Sentry's search language passed through as `query`, sort, bulk resolve /
 * ignore, 24h sparklines and cursor pagination from the Link header. The server pages (25 per
 * page), so 10,000 issues cost the same as 25. All state lives in the URL, so a search can be
 * shared and Back works. Keys: `/` search, `j`/`k` move, `x` select, Enter open.
 */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { api, withQuery } from '../api';
import { Sparkline } from '../components/charts';
import { Onboarding } from '../components/onboarding';
import { useShortcuts } from '../components/use-shortcuts';
import { compact, timeAgo } from '../format';
import type { Issue } from '../types';
import { useProjects } from './projects';

const SORTS = [
  ['date', 'Last seen'],
  ['new', 'First seen'],
  ['freq', 'Events'],
  ['user', 'Users'],
] as const;
const DEFAULT_QUERY = 'is:unresolved';
const PAGE_SIZE = 25;

export function IssueStreamPage({ org }: { org: string }) {
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const queryClient = useQueryClient();
  const project = params.get('project') ?? '';
  const query = params.get('query') ?? DEFAULT_QUERY;
  const sort = params.get('sort') ?? 'date';
  const cursor = params.get('cursor') ?? '';
  const [draft, setDraft] = useState(query);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [focus, setFocus] = useState(-1);
  const searchRef = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLTableSectionElement>(null);
  useEffect(() => setDraft(query), [query]);

  const go = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    if (!('cursor' in changes)) next.delete('cursor');
    setSelected(new Set());
    setFocus(-1);
    const s = next.toString();
    navigate(`/organizations/${org}/issues/${s ? `?${s}` : ''}`);
  };

  const projects = useProjects(org);
  const issues = useQuery({
    queryKey: ['issues', org, project, query, sort, cursor],
    queryFn: () =>
      api.page<Issue[]>(withQuery(`/organizations/${org}/issues/`, { project: project || undefined, query, sort, cursor: cursor || undefined, statsPeriod: '24h', limit: PAGE_SIZE })),
    placeholderData: keepPreviousData,
  });
  const empty = issues.data && issues.data.data.length === 0 && !cursor;
  // Only when the stream is empty: has this project ever received anything? Decides between
  // "nothing matches" and the setup instructions a new user needs.
  const anyIssue = useQuery({
    queryKey: ['issues-any', org, project],
    queryFn: () => api.get<Issue[]>(withQuery(`/organizations/${org}/issues/`, { project: project || undefined, query: '', statsPeriod: '', limit: 1 })),
    enabled: Boolean(empty),
  });

  const update = useMutation({
    mutationFn: async (status: string) => {
      const rows = (issues.data?.data ?? []).filter((i) => selected.has(i.id));
      const bySlug = new Map<string, string[]>();
      for (const i of rows) bySlug.set(i.project.slug, [...(bySlug.get(i.project.slug) ?? []), i.id]);
      for (const [slug, ids] of bySlug) await api.put(withQuery(`/projects/${org}/${slug}/issues/`, { id: ids }), { status });
    },
    onSuccess: () => setSelected(new Set()),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['issues'] }),
  });

  const list = issues.data?.data ?? [];
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const moveFocus = (d: number) => {
    const i = Math.min(list.length - 1, Math.max(0, focus + d));
    setFocus(i);
    listRef.current?.querySelectorAll<HTMLAnchorElement>('a.issue-title')[i]?.focus();
  };
  useShortcuts({
    '/': () => searchRef.current?.focus(),
    j: () => moveFocus(1),
    k: () => moveFocus(-1),
    x: () => focus >= 0 && list[focus] && toggle(list[focus].id),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    go({ query: draft });
  };
  const currentProject = projects.data?.find((p) => p.id === project) ?? (projects.data?.length === 1 ? projects.data[0] : undefined);
  const allSelected = list.length > 0 && list.every((i) => selected.has(i.id));

  return (
    <div className="page wide">
      <div className="stream-head">
        <h1>Issues</h1>
        <label>
          <span className="visually-hidden">Project</span>
          <select value={project} onChange={(e) => go({ project: e.target.value || null })} aria-label="Project">
            <option value="">All projects</option>
            {projects.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <form onSubmit={submit} className="search" role="search">
          <label className="visually-hidden" htmlFor="issue-search">
            Search issues
          </label>
          <input
            id="issue-search"
            ref={searchRef}
            type="search"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder='is:unresolved level:error release:1.0 "timeout"'
            spellCheck={false}
            autoComplete="off"
          />
          <button type="submit">Search</button>
        </form>
        <label>
          <span className="muted small">Sort </span>
          <select value={sort} onChange={(e) => go({ sort: e.target.value })} aria-label="Sort by">
            {SORTS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>

      {(list.length > 0 || cursor) && (
      <div className="bulk" role="toolbar" aria-label="Bulk actions">
        <input
          type="checkbox"
          aria-label="Select all issues on this page"
          checked={allSelected}
          onChange={() => setSelected(allSelected ? new Set() : new Set(list.map((i) => i.id)))}
        />
        <button type="button" disabled={!selected.size || update.isPending} onClick={() => update.mutate('resolved')}>
          Resolve
        </button>
        <button type="button" disabled={!selected.size || update.isPending} onClick={() => update.mutate('ignored')}>
          Ignore
        </button>
        <button type="button" disabled={!selected.size || update.isPending} onClick={() => update.mutate('unresolved')}>
          Unresolve
        </button>
        <span className="muted small" aria-live="polite">
          {selected.size ? `${selected.size} selected` : ''}
        </span>
        {update.error && <span className="form-error">{update.error.message}</span>}
        <span className="spacer" />
        <span className="muted small hint">/ search · j k move · x select · Enter open</span>
      </div>
      )}

      {issues.error && (
        <p className="form-error" role="alert">
          {issues.error.message}
        </p>
      )}
      {issues.isPending && <p aria-busy="true">Loading issues…</p>}

      {list.length > 0 && (
        <table className="table issues" aria-busy={issues.isFetching}>
          <thead>
            <tr>
              <th scope="col" className="check">
                <span className="visually-hidden">Select</span>
              </th>
              <th scope="col">Issue</th>
              <th scope="col" className="graph">
                Last 24h
              </th>
              <th scope="col" className="num">
                Events
              </th>
              <th scope="col" className="num">
                Users
              </th>
            </tr>
          </thead>
          <tbody ref={listRef}>
            {list.map((i, idx) => (
              <tr key={i.id} className={`${selected.has(i.id) ? 'selected' : ''} ${idx === focus ? 'focused' : ''}`}>
                <td className="check">
                  <input type="checkbox" aria-label={`Select ${i.shortId}`} checked={selected.has(i.id)} onChange={() => toggle(i.id)} />
                </td>
                <td>
                  <div className="issue-line">
                    <span className={`level level-${i.level}`} title={`level: ${i.level}`} />
                    <Link href={`/organizations/${org}/issues/${i.id}/`} className="issue-title" onFocus={() => setFocus(idx)}>
                      {i.title}
                    </Link>
                  </div>
                  <div className="issue-meta muted small">
                    <span className="mono">{i.shortId}</span>
                    {i.culprit && <span className="culprit">{i.culprit}</span>}
                    <span title={i.lastSeen}>last seen {timeAgo(i.lastSeen)}</span>
                    <span title={i.firstSeen}>first seen {timeAgo(i.firstSeen)}</span>
                    {i.status !== 'unresolved' && <span className={`badge status-${i.status}`}>{i.status}</span>}
                  </div>
                </td>
                <td className="graph">
                  <Sparkline series={i.stats?.['24h']} label={i.shortId} />
                </td>
                <td className="num">{compact(i.count)}</td>
                <td className="num">{compact(i.userCount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      {empty && anyIssue.data && anyIssue.data.length > 0 && (
        <div className="empty card">
          <h2>No issues match “{query}”</h2>
          <p>
            Try another search, or{' '}
            <button type="button" className="link-button" onClick={() => go({ query: '' })}>
              show every issue
            </button>
            . Keys: <code>is:resolved</code>, <code>level:error</code>, <code>release:1.0</code>, <code>user.email:a@b.c</code>, any tag, or free text.
          </p>
        </div>
      )}
      {empty && anyIssue.data && anyIssue.data.length === 0 && projects.data && <Onboarding org={org} project={currentProject ?? projects.data[0]} />}

      {(list.length > 0 || cursor) && (
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={!issues.data?.previous || !cursor} onClick={() => go({ cursor: issues.data?.previous ?? null })}>
          ← Previous
        </button>
        <button type="button" disabled={!issues.data?.next} onClick={() => go({ cursor: issues.data?.next ?? null })}>
          Next →
        </button>
      </nav>
      )}
    </div>
  );
}
