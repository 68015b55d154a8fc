/**
 * The frame around every page: the top bar (organization switcher, Issues, Projects, account,
 * logout) and a skip link for keyboard users. Which organization is current comes from the URL.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { api } from '../api';
import { useSession } from '../session';

function currentOrg(location: string, fallback: string | undefined): string | undefined {
  const m = /^\/(?:organizations|settings)\/([^/]+)\//.exec(location);
  return m && m[1] !== 'account' ? m[1] : fallback;
}

export function Layout({ children }: { children: ReactNode }) {
  const { data } = useSession();
  const [location, navigate] = useLocation();
  const queryClient = useQueryClient();
  const org = currentOrg(location, data?.organizations[0]?.slug);
  const logout = useMutation({
    mutationFn: () => api.del('/auth/'),
    onSettled: () => {
      queryClient.clear();
      navigate('/auth/login/');
    },
  });
  const active = (prefix: string) => (location.startsWith(prefix) ? 'active' : undefined);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Faultline
        </Link>
        {data && data.organizations.length > 1 && (
          <label className="org-switch">
            <span className="visually-hidden">Organization</span>
            <select value={org} onChange={(e) => navigate(`/organizations/${e.target.value}/issues/`)}>
              {data.organizations.map((o) => (
                <option key={o.slug} value={o.slug}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {org && (
          <nav aria-label="Main">
            <Link href={`/organizations/${org}/issues/`} className={active(`/organizations/${org}/issues/`)}>
              Issues
            </Link>
            <Link href={`/organizations/${org}/projects/`} className={active(`/organizations/${org}/projects/`) ?? active(`/settings/${org}/`)}>
              Projects
            </Link>
          </nav>
        )}
        <div className="topbar-end">
          <Link href="/settings/account/" className={active('/settings/account/')}>
            {data?.user?.email ?? 'Account'}
          </Link>
          <button type="button" className="link-button" onClick={() => logout.mutate()} disabled={logout.isPending}>
            Log out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
