/**
 * Builds the nodestore from configuration: FAULTLINE_NODESTORE picks the backend (sql or
 * filesystem); FAULTLINE_NODESTORE_SECONDARY adds a second one behind the Service Delegator, so
 * every write goes to both and sampled reads are compared — the dual-write half of a storage
 * migration (docs/operations.md, "Moving event bodies"). With a secondary, the primary can then be
 * switched at run time through `delegator_settings`.
 *
 * Left out: more than two nodestore backends at once, and an S3 backend.
 */
import path from 'node:path';
import type { Config } from '../../config/index.js';
import type { DatabaseHandle } from '../../db/index.js';
import { createDelegator, DelegatorControl, DelegatorRecorder, type CallScope, type DelegatorSettings } from '../delegator/index.js';
import type { QueueBackend } from '../queue/index.js';
import { FilesystemNodestoreBackend } from './backends/filesystem.js';
import { SqlNodestoreBackend } from './backends/sql.js';
import { bodyDictionariesFor } from './dictionaries.js';
import type { NodestoreBackend, NodestoreScan } from './index.js';

export type NodestoreKind = 'sql' | 'filesystem';
export const NODESTORE_KINDS: readonly NodestoreKind[] = ['sql', 'filesystem'];

export function nodestoreDir(config: Config): string {
  return path.resolve(config.nodestoreDir ?? path.join(config.dataDir, 'nodestore'));
}

/** One nodestore backend by name (also used by `faultline nodestore migrate`). */
export function nodestoreBackend(kind: NodestoreKind, config: Config, database: DatabaseHandle, dir?: string): NodestoreBackend & NodestoreScan {
  const dictionaries = bodyDictionariesFor(database);
  return kind === 'filesystem'
    ? new FilesystemNodestoreBackend(dir ?? nodestoreDir(config), dictionaries)
    : new SqlNodestoreBackend(database.db, database.dialect, dictionaries);
}

/** The delegator settings configuration gives, before any run-time override. */
export function nodestoreDelegatorDefaults(config: Config): { defaults: DelegatorSettings; available: string[] } {
  const secondary = config.nodestoreSecondary && config.nodestoreSecondary !== config.nodestore ? config.nodestoreSecondary : null;
  return {
    defaults: { primary: config.nodestore, secondaries: secondary ? [secondary] : [], sampleRate: config.delegatorSampleRate, organizations: [], projects: [] },
    available: secondary ? [config.nodestore, secondary] : [config.nodestore],
  };
}

/** Body ids begin `e:<projectId>:` (eventNodeId): the project is in the id. */
function scopeOf(method: string, args: unknown[]): CallScope {
  const a = args[0];
  const id = typeof a === 'string' ? a : Array.isArray(a) ? (typeof a[0] === 'string' ? a[0] : (a[0] as { id?: string } | undefined)?.id) : undefined;
  const m = id ? /^e:(\d+):/.exec(id) : null;
  return m ? { projectId: Number(m[1]) } : {};
}

export interface BuiltNodestore {
  nodestore: NodestoreBackend;
  /** Present when a secondary is configured. */
  control: DelegatorControl | null;
  close(): Promise<void>;
}

export async function createNodestore(config: Config, database: DatabaseHandle, queue: QueueBackend, onError: (err: unknown) => void = () => {}): Promise<BuiltNodestore> {
  const { defaults, available } = nodestoreDelegatorDefaults(config);
  if (available.length === 1) return { nodestore: nodestoreBackend(config.nodestore, config, database), control: null, close: async () => {} };

  const backends = Object.fromEntries(available.map((k) => [k, nodestoreBackend(k as NodestoreKind, config, database)])) as Record<string, NodestoreBackend>;
  const control = new DelegatorControl(database.db, { nodestore: defaults }, { nodestore: available }, onError);
  await control.start();
  const recorder = new DelegatorRecorder(queue);
  const inFlight = new Set<Promise<unknown>>();
  const nodestore = createDelegator<NodestoreBackend>({
    service: 'nodestore',
    backends,
    router: control,
    record: recorder.record,
    timeoutMs: config.delegatorTimeoutMs,
    writeMethods: ['setMulti', 'delete'],
    scopeOf,
    // The executor is the caller's transaction; it has ended by the time a background write runs.
    secondaryArgs: (_method, args) => args.slice(0, 1),
    track: (work) => {
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    },
  });
  return {
    nodestore,
    control,
    close: async () => {
      control.stop();
      // Let dual-writes already started land, so a clean stop leaves the secondary complete.
      await Promise.allSettled([...inFlight]);
      await recorder.close();
    },
  };
}
