/**
 * Routes, on the same paths as Sentry's UI so the API's issue permalinks open here, and the
 * login guard: every page but /auth/login/ needs a session. Permission checks are the API's job;
 * the UI only reacts to its answers.
 */
import { Redirect, Route, Switch, useLocation, useSearch } from 'wouter';
import { Layout } from './components/layout';
import { AccountPage } from './pages/account';
import { IssueDetailsPage } from './pages/issue-details';
import { IssueStreamPage } from './pages/issue-stream';
import { LoginPage } from './pages/login';
import { ProjectSettingsPage } from './pages/project-settings';
import { ProjectsPage } from './pages/projects';
import { useSession } from './session';

function Home() {
  const { data } = useSession();
  const org = data?.organizations[0];
  if (!org) {
    return (
      <div className="empty">
        <h1>No organization yet</h1>
        <p>
          Your account is not a member of any organization. Ask an owner to add you, or create one with{' '}
          <code>npx faultline project create ORG/PROJECT</code>.
        </p>
      </div>
    );
  }
  return <Redirect to={`/organizations/${org.slug}/issues/`} replace />;
}

function NotFound() {
  return (
    <div className="empty">
      <h1>Page not found</h1>
      <p>
        <a href="/">Back to the issues</a>
      </p>
    </div>
  );
}

export function App() {
  const session = useSession();
  const [location] = useLocation();
  const search = useSearch();

  if (location === '/auth/login/' || location === '/auth/login') return <LoginPage />;
  if (session.isPending) return <div className="loading" aria-busy="true">Loading…</div>;
  if (session.isError) return <div className="empty error">Faultline is not reachable: {session.error.message}</div>;
  if (!session.data) {
    const next = location + (search ? `?${search}` : '');
    return <Redirect to={`/auth/login/${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  if (!location.endsWith('/')) return <Redirect to={`${location}/${search ? `?${search}` : ''}`} replace />;

  return (
    <Layout>
      <Switch>
        <Route path="/" component={Home} />
        <Route path="/organizations/:org/issues/">{(p) => <IssueStreamPage org={p.org} />}</Route>
        <Route path="/organizations/:org/issues/:id/">{(p) => <IssueDetailsPage org={p.org} issueId={p.id} eventId="latest" />}</Route>
        <Route path="/organizations/:org/issues/:id/events/">{(p) => <IssueDetailsPage org={p.org} issueId={p.id} eventId={null} />}</Route>
        <Route path="/organizations/:org/issues/:id/events/:eventId/">
          {(p) => <IssueDetailsPage org={p.org} issueId={p.id} eventId={p.eventId} />}
        </Route>
        <Route path="/organizations/:org/projects/">{(p) => <ProjectsPage org={p.org} />}</Route>
        <Route path="/settings/account/" component={AccountPage} />
        <Route path="/settings/:org/projects/:project/">{(p) => <ProjectSettingsPage org={p.org} project={p.project} />}</Route>
        <Route component={NotFound} />
      </Switch>
    </Layout>
  );
}
