/**
 * The worker role in a thread of its own, for `faultline start`: ingest and the API keep the main
 * thread (and its event loop) while normalizing, grouping and saving run on the second core. The
 * thread opens its own connections (SQLite in WAL mode takes a reader and a writer from two
 * threads as from two processes) and talks to the main thread only to be woken up and stopped.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { Config } from '../config/index.js';
import { EventWorker, startPostProcessing } from '../pipeline/index.js';
import { createServices } from '../services/index.js';
import { kernelThreadId } from './thread-id.js';

const { config, spare } = workerData as { config: Config; spare: boolean };
// On Linux a thread's nice value is its own: this lowers only this thread, so an extra worker
// thread gets the CPU that ingest and the first worker leave (measured: docs/decisions.md).
if (spare) {
  try {
    setPriority(0, 19);
  } catch {
    // Not permitted or not supported here: the thread runs at normal priority.
  }
}
const log = pino({ level: config.logLevel, base: { pid: process.pid, thread: 'worker' } });
// The main thread has migrated already.
const services = await createServices(config, { migrate: false });
const worker = new EventWorker(services, log.child({ role: 'worker' }), { batchSize: config.workerBatchSize, leaseMs: config.queueLeaseMs, checkpointThread: !spare });
worker.start();
const postProcessing = startPostProcessing(services, log.child({ role: 'post-process' }));

parentPort!.on('message', (message: string) => {
  if (message === 'notify') worker.notify();
  else if (message === 'stop') {
    void (async () => {
      await worker.stop();
      await postProcessing.stop();
      await services.close();
      parentPort!.postMessage('stopped');
    })();
  }
});
// The thread's kernel id, for reading its CPU from /proc (the benchmark does).
log.info({ tid: kernelThreadId() }, 'worker thread running');
parentPort!.postMessage('ready');
