// A real @sentry/node application used by the end-to-end tests. Scenario from argv[2]; DSN from
// FAULTLINE_DSN. It reports what it sent on stdout as JSON lines.
import * as Sentry from '@sentry/node';

const dsn = process.env.FAULTLINE_DSN;
const scenario = process.argv[2];
// Default integrations minus the instrumentation ones: context lines and linked errors are what users have.
Sentry.init({
  dsn,
  release: 'e2e-app@1.0.0',
  environment: 'e2e',
  defaultIntegrations: false,
  integrations: [Sentry.contextLinesIntegration(), Sentry.linkedErrorsIntegration()],
});

function throwsTypeError(input) {
  return input.missing.property; // same throw site every time
}

function failsDifferently() {
  throw new RangeError('a different failure');
}

const ids = [];
if (scenario === 'same-site') {
  const users = ['u1', 'u2', 'u3', 'u1', 'u2'];
  for (const id of users) {
    Sentry.setUser({ id, email: `${id}@example.com` });
    try {
      throwsTypeError({});
    } catch (err) {
      ids.push(Sentry.captureException(err));
    }
  }
  Sentry.setUser(null);
  try {
    failsDifferently();
  } catch (err) {
    ids.push(Sentry.captureException(err));
  }
} else if (scenario === 'messages') {
  for (const n of [17, 4242, 99]) ids.push(Sentry.captureMessage(`Loaded ${n} items in ${n * 3} ms`, 'warning'));
  ids.push(Sentry.captureMessage('A message that is about something else entirely', 'info'));
} else if (scenario === 'tagged') {
  Sentry.setTag('feature', 'checkout');
  Sentry.addBreadcrumb({ category: 'ui.click', message: 'clicked pay', level: 'info' });
  try {
    throw new Error('checkout failed for order 12345');
  } catch (err) {
    ids.push(Sentry.captureException(err));
  }
} else if (scenario === 'secrets') {
  // Each of Sentry's default sensitive words as a key, plus a card number in values.
  const words = ['password', 'secret', 'passwd', 'api_key', 'apikey', 'auth', 'credentials', 'mysql_pwd', 'privatekey', 'private_key', 'token', 'bearer'];
  Sentry.setExtras(Object.fromEntries(words.map((w) => [`x_${w}`, `value-of-${w}`])));
  Sentry.setContext('payment', { card: '4242 4242 4242 4242', amount: 12 });
  Sentry.addBreadcrumb({ category: 'http', message: 'POST /login?password=hunter2', level: 'info' });
  ids.push(Sentry.captureException(new Error('charge failed for card 4242424242424242')));
} else if (scenario === 'filtered') {
  ids.push(Sentry.captureException(new Error('ResizeObserver loop limit exceeded')));
  ids.push(Sentry.captureException(new Error('a real problem')));
}
await Sentry.flush(10_000);
process.stdout.write(JSON.stringify({ ids }) + '\n');
