#!/bin/sh
":" //; export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"; gc=; [ "$1" = start ] && [ "$(nproc 2>/dev/null || echo 4)" -le 2 ] && gc=--single-threaded-gc; exec node --max-semi-space-size=4 $gc "$0" "$@"
// The two lines above: run as a program, sh starts node with a 4 MB young generation (8 MB of
// semi-spaces instead of 32), which took about 35 MB off `faultline start` under load at no
// measured cost in speed, and with at most two malloc arenas (glibc gives each thread that
// allocates at once an arena of its own, up to 8 per core, and each keeps its freed memory:
// about 20 MB less under load). `faultline start` on two cores or fewer also collects garbage on
// the thread that made it (`--single-threaded-gc`): its ingest and worker threads already keep
// both cores busy, and V8's helper threads only competed with them (docs/decisions.md). Node
// reads line 2 as a string and a comment.
// Entry point: the compiled CLI lives in dist/ (built by `npm run build`, run by npm's `prepare`).
import('../dist/cli/index.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli')) {
    console.error('faultline: not built yet; run `npm run build` (npm ci does this through `prepare`).');
    process.exit(1);
  }
  throw err;
});
