// Runs a minified bundle built by test/e2e/sourcemaps.test.ts under the real @sentry/node SDK:
// loads the bundle (so its injected debug-id snippet registers), calls `run('not json')`, which
// throws from the bundle, captures the error and prints {"eventId": ...}.
// usage: node sourcemap-app.mjs <bundle.js> <dsn> <release>
import { pathToFileURL } from 'node:url';
import * as Sentry from '@sentry/node';

const [bundle, dsn, release] = process.argv.slice(2);
Sentry.init({ dsn, release, environment: 'production'});
const mod = await import(pathToFileURL(bundle).href);
let eventId = null;
try {
  mod.run('not json');
} catch (err) {
  eventId = Sentry.captureException(err);
}
await Sentry.flush(5000);
console.log(JSON.stringify({ eventId }));
