/**
 * A project's settings: name and platform, its client keys (DSNs: create, disable/enable, rotate,
 * delete) and SDK setup snippets. Rotating is two API calls, as in Sentry: create a new key, then
 * disable the old one; the SDKs move to the new DSN at their next deploy.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { api } from '../api';
import { CopyButton } from '../components/copy-button';
import { SetupSnippets } from '../components/setup-snippets';
import { dateTime } from '../format';
import type { Project, ProjectKey } from '../types';
import { PLATFORMS } from './projects';

export function useKeys(org: string, project: string | undefined) {
  return useQuery({
    queryKey: ['keys', org, project],
    queryFn: () => api.get<ProjectKey[]>(`/projects/${org}/${project}/keys/`),
    enabled: Boolean(project),
  });
}

function KeyRow({ k, base, onChange }: { k: ProjectKey; base: string; onChange: () => void }) {
  const toggle = useMutation({ mutationFn: () => api.put(`${base}${k.id}/`, { isActive: !k.isActive }), onSettled: onChange });
  const rotate = useMutation({
    mutationFn: async () => {
      await api.post(base, { name: k.name });
      await api.put(`${base}${k.id}/`, { isActive: false });
    },
    onSettled: onChange,
  });
  const remove = useMutation({ mutationFn: () => api.del(`${base}${k.id}/`), onSettled: onChange });
  const error = toggle.error ?? rotate.error ?? remove.error;
  return (
    <li className={k.isActive ? 'key' : 'key disabled'}>
      <div className="key-head">
        <strong>{k.name}</strong>
        <span className={k.isActive ? 'badge ok' : 'badge'}>{k.isActive ? 'active' : 'disabled'}</span>
        <span className="muted small">created {dateTime(k.dateCreated)}</span>
      </div>
      <div className="dsn">
        <code aria-label={`DSN of key ${k.name}`}>{k.dsn.public}</code>
        <CopyButton text={k.dsn.public} label="Copy DSN" />
      </div>
      <div className="actions">
        <button type="button" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
          {k.isActive ? 'Disable' : 'Enable'}
        </button>
        {k.isActive && (
          <button type="button" onClick={() => rotate.mutate()} disabled={rotate.isPending} title="Create a new key and disable this one">
            Rotate
          </button>
        )}
        <button
          type="button"
          className="danger"
          onClick={() => window.confirm(`Delete key "${k.name}"? SDKs using it stop sending events.`) && remove.mutate()}
          disabled={remove.isPending}
        >
          Delete
        </button>
      </div>
      {error && <p className="form-error">{error.message}</p>}
    </li>
  );
}

export function ProjectSettingsPage({ org, project }: { org: string; project: string }) {
  const queryClient = useQueryClient();
  const info = useQuery({ queryKey: ['project', org, project], queryFn: () => api.get<Project>(`/projects/${org}/${project}/`) });
  const keys = useKeys(org, project);
  const base = `/projects/${org}/${project}/keys/`;
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['keys', org, project] });
  const [keyName, setKeyName] = useState('');
  const addKey = useMutation({ mutationFn: () => api.post(base, { name: keyName || 'Default' }), onSuccess: () => setKeyName(''), onSettled: refresh });
  const [edit, setEdit] = useState<{ name: string; platform: string } | null>(null);
  const save = useMutation({
    mutationFn: (v: { name: string; platform: string }) => api.put<Project>(`/projects/${org}/${project}/`, v),
    onSuccess: (p) => {
      queryClient.setQueryData(['project', org, project], p);
      void queryClient.invalidateQueries({ queryKey: ['projects', org] });
      setEdit(null);
    },
  });
  const form = edit ?? (info.data ? { name: info.data.name, platform: info.data.platform ?? 'other' } : null);
  const firstActive = keys.data?.find((k) => k.isActive);

  const submitKey = (e: FormEvent) => {
    e.preventDefault();
    addKey.mutate();
  };

  if (info.error) return <div className="page empty form-error">{info.error.message}</div>;
  return (
    <div className="page">
      <p className="trail">
        <Link href={`/organizations/${org}/projects/`}>Projects</Link> / {info.data?.name ?? project}
      </p>
      <h1>{info.data?.name ?? project} settings</h1>
      {info.data && (
        <Link href={`/organizations/${org}/issues/?project=${info.data.id}`} className="small">
          View this project's issues →
        </Link>
      )}

      <section className="card" aria-labelledby="keys-title">
        <h2 id="keys-title">Client keys (DSN)</h2>
        <p className="muted">Point a Sentry SDK at a DSN. Disable a key to refuse its events; rotate to replace a leaked one.</p>
        {keys.isPending && <p aria-busy="true">Loading keys…</p>}
        <ul className="keys">
          {keys.data?.map((k) => (
            <KeyRow key={k.id} k={k} base={base} onChange={refresh} />
          ))}
        </ul>
        <form onSubmit={submitKey} className="row-form">
          <label>
            New key name
            <input value={keyName} maxLength={200} onChange={(e) => setKeyName(e.target.value)} placeholder="Default" />
          </label>
          <button type="submit" disabled={addKey.isPending}>
            Create key
          </button>
        </form>
        {addKey.error && <p className="form-error">{addKey.error.message}</p>}
      </section>

      <section className="card" aria-labelledby="setup-title">
        <h2 id="setup-title">Set up an SDK</h2>
        {firstActive ? (
          <SetupSnippets dsn={firstActive.dsn.public} initial={info.data?.platform} />
        ) : (
          <p className="muted">Create or enable a key to see setup instructions.</p>
        )}
      </section>

      {form && (
        <section className="card" aria-labelledby="general-title">
          <h2 id="general-title">General</h2>
          <form
            className="row-form"
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate(form);
            }}
          >
            <label>
              Name
              <input required maxLength={200} value={form.name} onChange={(e) => setEdit({ ...form, name: e.target.value })} />
            </label>
            <label>
              Platform
              <select value={form.platform} onChange={(e) => setEdit({ ...form, platform: e.target.value })}>
                {[...new Set([...PLATFORMS, form.platform])].map((p) => (
                  <option key={p}>{p}</option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={save.isPending || !edit}>
              Save
            </button>
          </form>
          {save.error && <p className="form-error">{save.error.message}</p>}
          <p className="muted small">Slug: {project} (used in API paths; it does not change).</p>
        </section>
      )}
    </div>
  );
}
