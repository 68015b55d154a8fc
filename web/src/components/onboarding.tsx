/**
 * The empty state of a project that has never received an event: its DSN and an SDK snippet, so
 * the next step is obvious. Used by the issue stream.
 */
import { Link } from 'wouter';
import type { Project } from '../types';
import { useKeys } from '../pages/project-settings';
import { SetupSnippets } from './setup-snippets';

export function Onboarding({ org, project }: { org: string; project: Project | undefined }) {
  const keys = useKeys(org, project?.slug);
  const dsn = keys.data?.find((k) => k.isActive)?.dsn.public;
  if (!project) {
    return (
      <div className="empty card">
        <h2>No projects yet</h2>
        <p>
          <Link href={`/organizations/${org}/projects/`}>Create a project</Link> to get a DSN, then point a Sentry SDK at it.
        </p>
      </div>
    );
  }
  return (
    <div className="empty card onboarding">
      <h2>Waiting for the first event in {project.name}</h2>
      <p>Faultline speaks Sentry's protocol: install an official Sentry SDK and give it this DSN.</p>
      {dsn ? (
        <>
          <p>
            DSN: <code className="dsn-inline">{dsn}</code>
          </p>
          <SetupSnippets dsn={dsn} initial={project.platform} />
        </>
      ) : (
        keys.isSuccess && (
          <p>
            This project has no active key. <Link href={`/settings/${org}/projects/${project.slug}/`}>Create one in its settings</Link>.
          </p>
        )
      )}
    </div>
  );
}
