/**
 * Copy-paste setup for the official Sentry SDKs, pointed at a project's DSN. The DSN is the only
 * thing that changes: the SDKs are unmodified. Snippets follow each SDK's own quick start.
 */
import { useState } from 'react';
import { CodeBlock } from './copy-button';

interface Snippet {
  id: string;
  label: string;
  install: string;
  code: (dsn: string) => string;
}

const SNIPPETS: Snippet[] = [
  {
    id: 'javascript',
    label: 'Browser JavaScript',
    install: 'npm install @sentry/browser',
    code: (dsn) => `import * as Sentry from '@sentry/browser';

Sentry.init({
  dsn: '${dsn}',
  release: 'my-app@1.0.0',
  environment: 'production',
});`,
  },
  {
    id: 'node',
    label: 'Node.js',
    install: 'npm install @sentry/node',
    code: (dsn) => `// Load this before the rest of your application.
import * as Sentry from '@sentry/node';

Sentry.init({
  dsn: '${dsn}',
  release: 'my-app@1.0.0',
  environment: 'production',
});`,
  },
  {
    id: 'python',
    label: 'Python',
    install: 'pip install sentry-sdk',
    code: (dsn) => `import sentry_sdk

sentry_sdk.init(
    dsn="${dsn}",
    release="my-app@1.0.0",
    environment="production",
)`,
  },
  {
    id: 'go',
    label: 'Go',
    install: 'go get github.com/getsentry/sentry-go',
    code: (dsn) => `err := sentry.Init(sentry.ClientOptions{
    Dsn:         "${dsn}",
    Release:     "my-app@1.0.0",
    Environment: "production",
})
if err != nil {
    log.Fatalf("sentry.Init: %s", err)
}
defer sentry.Flush(2 * time.Second)`,
  },
  {
    id: 'php',
    label: 'PHP',
    install: 'composer require sentry/sentry',
    code: (dsn) => `\\Sentry\\init([
    'dsn' => '${dsn}',
    'release' => 'my-app@1.0.0',
    'environment' => 'production',
]);`,
  },
  {
    id: 'ruby',
    label: 'Ruby',
    install: 'gem install sentry-ruby',
    code: (dsn) => `Sentry.init do |config|
  config.dsn = '${dsn}'
  config.release = 'my-app@1.0.0'
  config.environment = 'production'
end`,
  },
  {
    id: 'cli',
    label: 'sentry-cli',
    install: 'npm install @sentry/cli',
    code: (dsn) => `export SENTRY_DSN='${dsn}'
npx sentry-cli send-event -m "Hello from sentry-cli"`,
  },
];

export function SetupSnippets({ dsn, initial }: { dsn: string; initial?: string | null }) {
  const first = SNIPPETS.find((s) => initial && (s.id === initial || initial.startsWith(s.id))) ?? SNIPPETS[0];
  const [current, setCurrent] = useState(first.id);
  const snippet = SNIPPETS.find((s) => s.id === current) ?? first;
  return (
    <div className="snippets">
      <div role="tablist" aria-label="SDK" className="tabs">
        {SNIPPETS.map((s) => (
          <button
            key={s.id}
            type="button"
            role="tab"
            id={`snippet-tab-${s.id}`}
            aria-selected={s.id === snippet.id}
            aria-controls="snippet-panel"
            className={s.id === snippet.id ? 'tab active' : 'tab'}
            onClick={() => setCurrent(s.id)}
          >
            {s.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="snippet-panel" aria-labelledby={`snippet-tab-${snippet.id}`}>
        <CodeBlock code={snippet.install} label="Install" />
        <CodeBlock code={snippet.code(dsn)} label="Configure" />
        <p className="muted small">Then trigger an error in your application: it shows up in the issue stream within seconds.</p>
      </div>
    </div>
  );
}
