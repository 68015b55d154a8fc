/** An issue's tag distributions (`GET /api/0/issues/{id}/tags/`): top values per key as bars. */
import { useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api } from '../api';
import type { TagBreakdown } from '../types';

export function TagBreakdownPanel({ issueId, org, projectId }: { issueId: string; org: string; projectId: string }) {
  const tags = useQuery({ queryKey: ['issue-tags', issueId], queryFn: () => api.get<TagBreakdown[]>(`/issues/${issueId}/tags/`) });
  if (tags.isPending) return <p aria-busy="true">Loading tags…</p>;
  if (tags.error) return <p className="form-error">{tags.error.message}</p>;
  if (!tags.data.length) return <p className="muted small">No tags recorded.</p>;
  return (
    <div className="tag-breakdown">
      {tags.data.map((t) => (
        <div key={t.key} className="tag-dist">
          <h4>
            {t.name} <span className="muted small">({t.uniqueValues} value{t.uniqueValues === 1 ? '' : 's'})</span>
          </h4>
          <ul>
            {t.topValues.map((v) => {
              const pct = t.totalValues ? Math.round((v.count / t.totalValues) * 100) : 0;
              const q = `${t.key}:"${v.value.replace(/"/g, '\\"')}"`;
              return (
                <li key={v.value}>
                  <Link href={`/organizations/${org}/issues/?project=${projectId}&query=${encodeURIComponent(q)}`} title={`${v.count} events`}>
                    <span className="dist-bar" aria-hidden="true">
                      <span className="dist-fill" style={{ width: `${pct}%` }} />
                    </span>
                    <span className="dist-label">{v.value}</span>
                    <span className="dist-pct">{pct}%</span>
                  </Link>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </div>
  );
}
