#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`, run by npm's `prepare`).
import('../dist/cli/index.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli')) {
    console.error('faultline: not built yet; run `npm run build` (npm ci does this through `prepare`).');
    process.exit(1);
  }
  throw err;
});
