/**
 * Loaded with `node --import` into the worker that `bench --profile-worker --heap` profiles:
 * samples where the process allocates, objects the garbage collector has already freed included
 * (V8's sampling heap profiler leaves those out unless asked, and short-lived garbage is what
 * costs the worker its collections), and writes the profile to FAULTLINE_HEAP_PROFILE on exit.
 * With FAULTLINE_HEAP_SURVIVORS=1 (`--heap-survivors`) it leaves out what a young-generation
 * collection freed, keeping what scavenges copied and promoted (their cost grows with it); young
 * garbage that a full collection freed instead is still counted, a small share in a worker that
 * runs a few full collections per 10,000 events.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.FAULTLINE_HEAP_PROFILE;
if (file) {
  const session = new Session();
  session.connect();
  const survivorsOnly = process.env.FAULTLINE_HEAP_SURVIVORS === '1';
  session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !survivorsOnly });
  // A session in the process's own thread answers synchronously, so this finishes before exit.
  process.on('exit', () => {
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(file, JSON.stringify(result.profile));
    });
  });
}
