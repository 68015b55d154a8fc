// A real @sentry/node application for the web UI test (test/e2e/ui.test.ts). Scenario from
// argv[2]: `checkout` (an ordinary error with breadcrumbs, user, tags, extra data) or `hostile`
// (markup in every field a user can control). DSN from FAULTLINE_DSN; prints {"ids": [...]}.
import * as Sentry from '@sentry/node';

const scenario = process.argv[2];
Sentry.init({
  dsn: process.env.FAULTLINE_DSN,
  release: 'shop@2.3.1',
  environment: 'production',
  defaultIntegrations: false,
  integrations: [Sentry.contextLinesIntegration(), Sentry.linkedErrorsIntegration()],
});

function processOrder(order) {
  if (!order.paid) throw new Error(`checkout failed for order ${order.id}`);
}

// The payload a hostile page or user would put in places an error tracker displays.
const XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

function hostileThrow() {
  // <img src=x onerror="window.__pwned=3"> this source line is shown as context
  throw new Error(`hostile ${XSS}`);
}

const ids = [];
if (scenario === 'checkout') {
  Sentry.setUser({ id: '42', email: 'ann@example.com', username: 'ann' });
  Sentry.setTag('feature', 'checkout');
  Sentry.setExtra('cart', { items: 3, total: '59.90' });
  Sentry.addBreadcrumb({ category: 'navigation', message: 'opened /cart', level: 'info' });
  Sentry.addBreadcrumb({ category: 'ui.click', message: 'clicked pay', level: 'info', data: { button: 'pay-now' } });
  for (const id of [1001, 1002]) {
    try {
      processOrder({ id, paid: false });
    } catch (err) {
      ids.push(Sentry.captureException(err));
    }
  }
  // Other issues beside it, so the stream has something to sort.
  Sentry.setUser({ id: '7', email: 'bob@example.com' });
  try {
    JSON.parse('{"cart": ');
  } catch (err) {
    ids.push(Sentry.captureException(err));
  }
  ids.push(Sentry.captureMessage('Payment provider answered slowly (2300 ms)', 'warning'));
} else if (scenario === 'hostile') {
  Sentry.setUser({ id: XSS, email: `${XSS}@example.com`, username: XSS });
  Sentry.setTag('hostile', '<img src=x onerror="window.__pwned=4">');
  Sentry.setExtra('note', XSS);
  Sentry.setContext('browser', { name: XSS, version: '1' });
  Sentry.addBreadcrumb({ category: 'ui.click', message: XSS, level: 'error', data: { html: XSS } });
  Sentry.addEventProcessor((event) => {
    // Fields the Node SDK fills from the environment, set here as an attacker's client would.
    const frames = event.exception?.values?.[0]?.stacktrace?.frames ?? [];
    if (frames.length) frames[frames.length - 1].function = XSS;
    event.request = { url: 'javascript:window.__pwned=5', method: 'POST', headers: { 'X-Evil': XSS }, data: XSS };
    return event;
  });
  try {
    hostileThrow();
  } catch (err) {
    ids.push(Sentry.captureException(err));
  }
}
await Sentry.flush(10_000);
process.stdout.write(JSON.stringify({ ids }) + '\n');
