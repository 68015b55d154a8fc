/**
 * An organization's projects, and creating one (`POST /api/0/organizations/{org}/projects/`, which
 * also creates the first DSN). A new project opens its settings, where the DSN and setup are.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useLocation } from 'wouter';
import { api } from '../api';
import type { Project } from '../types';

export const PLATFORMS = ['javascript', 'node', 'python', 'go', 'php', 'ruby', 'java', 'csharp', 'other'];

export function useProjects(org: string) {
  return useQuery({ queryKey: ['projects', org], queryFn: () => api.get<Project[]>(`/organizations/${org}/projects/`) });
}

export function ProjectsPage({ org }: { org: string }) {
  const projects = useProjects(org);
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [platform, setPlatform] = useState('javascript');
  const create = useMutation({
    mutationFn: () => api.post<Project>(`/organizations/${org}/projects/`, { name, platform }),
    onSuccess: (p) => {
      void queryClient.invalidateQueries({ queryKey: ['projects', org] });
      navigate(`/settings/${org}/projects/${p.slug}/`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <div className="page">
      <h1>Projects</h1>
      {projects.isPending && <p aria-busy="true">Loading projects…</p>}
      {projects.error && <p className="form-error">{projects.error.message}</p>}
      {projects.data && projects.data.length === 0 && (
        <div className="empty">
          <p>No projects yet. Create one below: it gets a DSN to point a Sentry SDK at.</p>
        </div>
      )}
      {projects.data && projects.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Platform</th>
              <th scope="col">
                <span className="visually-hidden">Links</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {projects.data.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link href={`/organizations/${org}/issues/?project=${p.id}`} className="strong">
                    {p.name}
                  </Link>{' '}
                  <span className="muted small">{p.slug}</span>
                </td>
                <td>{p.platform ?? '—'}</td>
                <td className="right">
                  <Link href={`/organizations/${org}/issues/?project=${p.id}`}>Issues</Link> ·{' '}
                  <Link href={`/settings/${org}/projects/${p.slug}/`}>Settings &amp; DSN</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <section className="card">
        <h2>Create a project</h2>
        <form onSubmit={submit} className="row-form">
          <label>
            Name
            <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Checkout backend" />
          </label>
          <label>
            Platform
            <select value={platform} onChange={(e) => setPlatform(e.target.value)}>
              {PLATFORMS.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create project
          </button>
        </form>
        {create.error && (
          <p className="form-error" role="alert">
            {create.error.message}
          </p>
        )}
      </section>
    </div>
  );
}
